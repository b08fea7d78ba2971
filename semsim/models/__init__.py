"""Getting vectors from text: which models the course uses, where their offline copies are,
loading them, what each encoder is (name, backend, fingerprint), faster encoders (ONNX
Runtime, int8), and an on-disk cache so that no text is encoded twice."""

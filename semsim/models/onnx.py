"""A fast CPU encoder: a sentence-transformers model exported to ONNX and run with ONNX Runtime.

``onnx_encoder(model)`` exports a local SentenceTransformer once (transformer, pooling and
normalisation all inside the graph, so the output *is* the sentence embedding), keeps it in
``$SEMSIM_CACHE_DIR/onnx/<model fingerprint>-v2/``, optionally quantises its weights to 8 bits
(``int8=True``: for BERT-style models ONNX Runtime's transformer optimizer first fuses
attention, GELU and layer norms, then dynamic quantisation with per-channel signed int8
weights), and returns an :class:`OnnxEncoder`:
an object with the same ``encode(...)`` and ``get_embedding_dimension()`` as the model,
so the engine, the embedding cache and the evaluation helpers take it unchanged. Each
variant has its own fingerprint: its vectors are never mixed with the original model's.

Measured in benchmarks/encoding.py and notebook 10. sentence-transformers' own
``backend="onnx"`` needs ``optimum``, which does not install beside transformers 5.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import Int8TooLossy
from ..paths import cache_dir
from ..files import publish_dir
from .identity import fingerprint, remember, source

OPSET = 17
EXPORT_VERSION = 2  # 2: attention exported in its plain ("eager") form, so ORT can fuse it for int8
INT8_FILE = "model-int8.onnx"
MIN_INT8_COSINE = 0.98  # an int8 graph must agree this well with the float one on PROBE, or it is refused
PROBE = ["A man is playing a guitar.", "Someone is playing an instrument on stage.", "The stock market fell today.",
         "short", "Cats sleep for most of the day, often in a warm spot near the window.",
         "How do I reset my password if I no longer have access to my email address?",
         "The committee postponed its decision until the next meeting in March.", "Il treno è in ritardo."]


def _export(model: Any, folder: Path) -> None:
    """Export ``model`` (a SentenceTransformer) to ``folder/model.onnx`` with its tokenizer."""
    import torch

    names = list(model.tokenizer.model_input_names)

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.st(dict(zip(names, inputs)))["sentence_embedding"]

    sample = model.tokenizer(["a short sentence", "and a somewhat longer one to pad"], padding=True, return_tensors="pt")
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"sentence_embedding": {0: "batch"}}
    transformer = getattr(model[0], "auto_model", None)
    config = getattr(transformer, "config", None)
    before = getattr(config, "_attn_implementation", None)
    switch = before not in (None, "eager")
    if switch:
        transformer.set_attn_implementation("eager")  # the same numbers; a graph ORT's optimizer recognises
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about Python control flow on shapes
            torch.onnx.export(SentenceEmbedding().eval(), tuple(sample[n] for n in names), str(folder / "model.onnx"),
                              input_names=names, output_names=["sentence_embedding"], dynamic_axes=axes,
                              opset_version=OPSET, dynamo=False)
    finally:
        if switch:
            transformer.set_attn_implementation(before)
    model.tokenizer.save_pretrained(str(folder / "tokenizer"))
    normalized = any(type(m).__name__ == "Normalize" for m in model)
    info = {"fingerprint": fingerprint(model), "inputs": names, "dim": int(model.get_embedding_dimension()),
            "model_type": getattr(config, "model_type", None),
            "heads": getattr(config, "num_attention_heads", None), "hidden": getattr(config, "hidden_size", None),
            "max_seq_length": int(model.max_seq_length), "normalized": normalized, "opset": OPSET,
            "torch": torch.__version__, "name": getattr(source(model), "name", None)}
    (folder / "info.json").write_text(json.dumps(info, indent=1))


def _quantize(folder: Path, info: dict) -> None:
    """Write ``folder/model-int8.onnx``: fused (BERT-style models), then 8-bit weights.

    Chosen by trying the variants on all-MiniLM-L6-v2 on an AVX2 CPU: signed weights ran faster
    than unsigned ones (about 1.75x against 1.55x plain sentence-transformers at batch 32), fusion
    added a few per cent, and per-channel scales kept the most STS-B quality among the signed
    variants. benchmarks/encoding.py measures the result.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # ORT logs advice about pre-processing on the root logger
    try:
        source = folder / "model.onnx"
        if info.get("model_type") == "bert" and info.get("heads") and info.get("hidden"):
            from onnxruntime.transformers.optimizer import optimize_model

            fused = optimize_model(str(source), model_type="bert", num_heads=int(info["heads"]),
                                   hidden_size=int(info["hidden"]))
            source = folder / "model-fused.onnx"
            fused.save_model_to_file(str(source))
        quantize_dynamic(str(source), str(folder / INT8_FILE), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})  # fused ops have no inferred type
    finally:
        root.setLevel(level)


def export_folder(model: Any, int8: bool = False) -> Path:
    """The cached ONNX export of ``model`` (exported, and quantised if ``int8``, on first use)."""
    target = publish_dir(cache_dir() / "onnx" / f"{fingerprint(model)}-v{EXPORT_VERSION}",
                         lambda tmp: _export(model, tmp), complete="info.json")  # appears whole, or not at all
    if int8 and not (target / INT8_FILE).is_file():
        with tempfile.TemporaryDirectory(dir=target) as tmp:
            shutil.copy(target / "model.onnx", Path(tmp) / "model.onnx")
            _quantize(Path(tmp), json.loads((target / "info.json").read_text()))
            agreement = int8_agreement(target, Path(tmp) / INT8_FILE)
            if agreement < MIN_INT8_COSINE:
                raise Int8TooLossy(
                    f"int8 quantisation changes this model's vectors too much: mean cosine {agreement:.3f} to the "
                    f"float vectors on {len(PROBE)} probe sentences (needs {MIN_INT8_COSINE}). "
                    "Use onnx_encoder(model) without int8=True.")
            os.replace(Path(tmp, INT8_FILE), target / INT8_FILE)   # a file published whole
    return target


class ExportedEncoder:
    """What an encoder of an exported graph shares, whatever runs the graph (ONNX Runtime, OpenVINO):
    the tokenizer, batching by token count, and the ``encode`` of sentence-transformers.
    A subclass sets ``folder``, ``info``, ``tokenizer``, ``max_seq_length`` and defines ``_run``."""

    folder: Path
    info: dict
    tokenizer: Any
    max_seq_length: int

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def get_embedding_dimension(self) -> int:
        return int(self.info["dim"])

    get_sentence_embedding_dimension = get_embedding_dimension  # the older name

    def encode(self, sentences: str | Sequence[str], batch_size: int = 32, show_progress_bar: bool = False,
               normalize_embeddings: bool = False, convert_to_tensor: bool = False, **_: Any) -> Any:
        """Like ``SentenceTransformer.encode`` for text: one string gives one vector, a list a matrix.

        Texts are tokenised once, truncated at ``max_seq_length`` word pieces, and batched by their
        number of tokens, longest first: a batch then holds texts of nearly equal length, so little
        is padding (sorting by characters, as sentence-transformers does, left about a third of a
        batch as padding on STS-B here). Vectors come back in the order given. A non-string
        raises ValueError, as in sentence-transformers.
        """
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
        if bad:
            raise ValueError(f"Unsupported input type: {bad[0]}. {type(self).__name__} encodes strings only.")
        out = np.zeros((len(texts), self.get_embedding_dimension()), dtype=np.float32)
        if not texts:
            return out
        tokens = self.tokenizer(texts, truncation=True, max_length=self.max_seq_length)
        order = np.argsort([-len(ids) for ids in tokens["input_ids"]], kind="stable")
        starts = range(0, len(texts), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches")
        for lo in starts:
            rows = order[lo:lo + batch_size]
            enc = self.tokenizer.pad({n: [tokens[n][i] for i in rows] for n in tokens.keys()}, return_tensors="np")
            out[rows] = self._run({n: enc[n].astype(np.int64) for n in self.info["inputs"]})
        if normalize_embeddings and not self.info["normalized"]:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        result = out[0] if single else out
        if convert_to_tensor:
            import torch

            return torch.from_numpy(result)
        return result


class OnnxEncoder(ExportedEncoder):
    """Sentence embeddings from an exported model with ONNX Runtime (CPU), sentence-transformers style."""

    def __init__(self, folder: str | Path, int8: bool = False, threads: int | None = None,
                 model_file: str | Path | None = None) -> None:
        import onnxruntime as ort
        from transformers import AutoTokenizer

        self.folder, self.int8 = Path(folder), int8
        self.info = json.loads((self.folder / "info.json").read_text())
        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        path = Path(model_file) if model_file else self.folder / (INT8_FILE if int8 else "model.onnx")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder / "tokenizer"))
        self.max_seq_length = int(self.info["max_seq_length"])
        self.backend = "onnxruntime int8" if int8 else "onnxruntime"

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        return self.session.run(["sentence_embedding"], feed)[0]

    def semsim_fingerprint(self) -> str:
        """The source model's fingerprint and the variant: int8 vectors differ, so they get their own."""
        variant = f"onnx-v{EXPORT_VERSION}-int8" if self.int8 else "onnx-float"
        return hashlib.sha256(f"{self.info['fingerprint']}-{variant}".encode()).hexdigest()[:16]


def int8_agreement(folder: Path, int8_file: Path) -> float:
    """Mean cosine between the vectors of ``int8_file`` and of the float graph in ``folder``, on PROBE.

    Dynamic int8 can fail badly on some models and CPUs (measured: all-mpnet-base-v2 on an AVX2
    CPU without VNNI gave cosines near 0 with per-channel weights), so every new int8 graph is checked.
    """
    exact = OnnxEncoder(folder).encode(PROBE, normalize_embeddings=True)
    approx = OnnxEncoder(folder, int8=True, model_file=int8_file).encode(PROBE, normalize_embeddings=True)
    return float(np.mean(np.sum(exact * approx, axis=1)))


def onnx_encoder(model: Any, int8: bool = False, threads: int | None = None) -> OnnxEncoder:
    """An ONNX Runtime encoder for ``model`` (a local SentenceTransformer), exported once and cached.

    ``int8``: dynamic 8-bit quantisation of the weights (faster, slightly different vectors). A new int8
    graph is checked against the float one and refused with :class:`Int8TooLossy` if they disagree.
    """
    if not hasattr(model, "tokenizer") or not hasattr(model, "_modules"):
        raise TypeError(f"onnx_encoder needs a sentence-transformers model, not {type(model).__name__}")
    encoder = OnnxEncoder(export_folder(model, int8), int8=int8, threads=threads)
    return remember(encoder, source(model))

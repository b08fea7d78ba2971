"""A second CPU backend: semsim's ONNX export run by OpenVINO, float32 or int8 (measured in notebook 10).

``openvino_encoder(model)`` reuses the folder that :func:`semsim.models.onnx.export_folder` writes
(the graph with pooling and normalisation inside, the tokenizer, info.json), converts the graph
once with ``openvino.convert_model`` and keeps it in ``$SEMSIM_CACHE_DIR/openvino/<fingerprint>-v1/``.
``int8=True`` quantises it with NNCF's post-training *static* quantisation: activation ranges are
measured once on 300 seeded STS-B *train* sentences (never an evaluation split), so, unlike ONNX
Runtime's dynamic int8, a sentence gets the same vector whatever batch it is in. Every new int8
graph must agree with the float one on the probe sentences, as ONNX Runtime's must.

Where it pays depends on the CPU: OpenVINO's fast int8 kernels use the VNNI or AMX instructions;
on a CPU with AVX2 only, its int8 ran no faster than float here (benchmarks/results/encoding.md).
:func:`fast_encoder` picks a path by the CPU's flags and says which and why.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import Int8TooLossy
from ..files import publish_dir
from ..paths import cache_dir
from .identity import fingerprint, remember, source
from .onnx import MIN_INT8_COSINE, PROBE, ExportedEncoder, OnnxEncoder, export_folder, onnx_encoder

OV_FORMAT = 1          # bump when the conversion or the quantisation recipe changes (a new folder, a new fingerprint)
CALIBRATION_SIZE = 300
FLOAT_XML, INT8_XML = "model-f32.xml", "model-int8.xml"
INT8_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")   # the instructions OpenVINO's int8 kernels need to pay
SPEED_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")   # printed beside every speed figure


def calibration_texts(n: int = CALIBRATION_SIZE, seed: int = 0) -> list[str]:
    """Distinct STS-B *train* sentences, a seeded sample: real lengths, never an evaluation split."""
    from ..data import load_stsb

    train = load_stsb("train")
    pool = list(dict.fromkeys(train["sentence1"].tolist() + train["sentence2"].tolist()))
    pick = np.random.default_rng(seed).choice(len(pool), size=min(n, len(pool)), replace=False)
    return [pool[i] for i in sorted(pick)]


def _convert(source: Path, out: Path, int8: bool) -> None:
    """Write the OpenVINO graph (float, or NNCF int8) of ``source/model.onnx`` into ``out``."""
    import openvino as ov

    graph = ov.convert_model(str(source / "model.onnx"))
    name = INT8_XML if int8 else FLOAT_XML
    if int8:
        import os

        os.environ.setdefault("NNCF_CI", "1")   # NNCF would otherwise send usage telemetry, unasked (it checks this)
        import nncf
        from transformers import AutoTokenizer

        info = json.loads((source / "info.json").read_text())
        tokenizer = AutoTokenizer.from_pretrained(str(source / "tokenizer"))

        def feed(text: str) -> dict[str, np.ndarray]:   # one sentence per sample: no padding in the ranges
            enc = tokenizer([text], truncation=True, max_length=int(info["max_seq_length"]), return_tensors="np")
            return {n: enc[n].astype(np.int64) for n in info["inputs"]}

        texts = calibration_texts()
        graph = nncf.quantize(graph, nncf.Dataset(texts, feed), subset_size=len(texts),
                              model_type=nncf.ModelType.TRANSFORMER)   # NNCF's recipe for transformers
    ov.save_model(graph, str(out / name), compress_to_fp16=False)      # float32 weights stay float32
    if int8:
        agreement = _agreement(source, out / name)
        if agreement < MIN_INT8_COSINE:
            raise Int8TooLossy(f"OpenVINO int8 changes this model's vectors too much: mean cosine {agreement:.3f} to "
                               f"the float vectors on {len(PROBE)} probe sentences (needs {MIN_INT8_COSINE}). "
                               "Use openvino_encoder(model) without int8=True.")


def openvino_folder(model: Any, int8: bool = False) -> tuple[Path, Path]:
    """(the ONNX export folder, the cached OpenVINO graph) of ``model``; converted (and quantised) once."""
    src = export_folder(model)
    name = INT8_XML if int8 else FLOAT_XML
    kind = "int8" if int8 else "f32"
    target = publish_dir(cache_dir() / "openvino" / f"{fingerprint(model)}-v{OV_FORMAT}-{kind}",
                         lambda out: _convert(src, out, int8), complete=name)
    return src, target / name


class OpenVinoEncoder(ExportedEncoder):
    """Sentence embeddings from an OpenVINO graph on the CPU, sentence-transformers style (like OnnxEncoder).

    ``PERFORMANCE_HINT`` is LATENCY: one stream using every core on each batch (the fastest measured
    on two cores). ``INFERENCE_PRECISION_HINT`` is f32, so that the float graph gives sentence-transformers'
    vectors on every CPU (OpenVINO would pick bf16 by itself where the CPU supports it)."""

    def __init__(self, folder: str | Path, model_file: str | Path, int8: bool = False,
                 threads: int | None = None) -> None:
        import openvino as ov
        from transformers import AutoTokenizer

        self.folder, self.int8 = Path(folder), int8
        self.info = json.loads((self.folder / "info.json").read_text())
        self.tokenizer = AutoTokenizer.from_pretrained(str(self.folder / "tokenizer"))
        self.max_seq_length = int(self.info["max_seq_length"])
        # f32 explicitly: on CPUs with AVX-512 BF16 or AMX, OpenVINO's default is bf16, which moved MiniLM's
        # vectors by up to 1.4e-3 on one of our machines (an int8 graph keeps its int8 operations either way).
        config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        if threads:
            config["INFERENCE_NUM_THREADS"] = int(threads)
        core = ov.Core()
        self.request = core.compile_model(core.read_model(str(model_file)), "CPU", config).create_infer_request()
        self.backend = "openvino int8" if int8 else "openvino"

    def _run(self, feed: dict[str, np.ndarray]) -> np.ndarray:
        return self.request.infer(feed)[0]

    def semsim_fingerprint(self) -> str:
        """The source model's fingerprint and the variant (int8 vectors differ, so they get their own)."""
        variant = f"openvino-v{OV_FORMAT}-int8-ptq{CALIBRATION_SIZE}" if self.int8 else f"openvino-v{OV_FORMAT}-float"
        return hashlib.sha256(f"{self.info['fingerprint']}-{variant}".encode()).hexdigest()[:16]


def _agreement(folder: Path, int8_xml: Path) -> float:
    """Mean cosine on PROBE between the int8 graph and the float ONNX graph (ONNX Runtime as the reference)."""
    exact = OnnxEncoder(folder).encode(PROBE, normalize_embeddings=True)
    approx = OpenVinoEncoder(folder, int8_xml, int8=True).encode(PROBE, normalize_embeddings=True)
    approx = approx / np.linalg.norm(approx, axis=1, keepdims=True)
    return float(np.mean(np.sum(exact * approx, axis=1)))


def openvino_encoder(model: Any, int8: bool = False, threads: int | None = None) -> OpenVinoEncoder:
    """An OpenVINO encoder for ``model`` (a local SentenceTransformer), converted once and cached."""
    if not hasattr(model, "tokenizer") or not hasattr(model, "_modules"):
        raise TypeError(f"openvino_encoder needs a sentence-transformers model, not {type(model).__name__}")
    folder, xml = openvino_folder(model, int8)
    return remember(OpenVinoEncoder(folder, xml, int8=int8, threads=threads), source(model))


def cpu_flags() -> set[str]:
    """The CPU's instruction-set flags (Linux: /proc/cpuinfo; elsewhere an empty set)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def speed_flags() -> list[str]:
    """Which of SPEED_FLAGS (the vector instruction sets that decide float and int8 speed) this CPU has."""
    flags = cpu_flags()
    return [flag for flag in SPEED_FLAGS if flag in flags]


def fast_encoder(model: Any, backend: str = "auto", verbose: bool = True) -> Any:
    """A faster CPU encoder for ``model``: ``backend`` "onnx", "onnx-int8", "openvino", "openvino-int8",
    or "auto": OpenVINO int8 on a CPU with VNNI or AMX (where its int8 kernels pay), else ONNX Runtime
    int8 (the faster of the two measured on AVX2-only CPUs). Each int8 path is checked against its float
    graph before use. Prints which path it chose and why (unless ``verbose`` is False)."""
    flags = cpu_flags()
    why = ""
    if backend == "auto":
        vnni = sorted(flags & set(INT8_FLAGS))
        try:
            import openvino  # noqa: F401
            has_ov = True
        except ImportError:
            has_ov = False
        backend = "openvino-int8" if vnni and has_ov else "onnx-int8"
        why = (f"this CPU has {', '.join(vnni)}" if vnni else "this CPU has no VNNI or AMX int8 instructions") + (
            "" if has_ov or not vnni else ", but openvino is not installed")
    builders = {"onnx": lambda: onnx_encoder(model), "onnx-int8": lambda: onnx_encoder(model, int8=True),
                "openvino": lambda: openvino_encoder(model), "openvino-int8": lambda: openvino_encoder(model, int8=True)}
    if backend not in builders:
        raise ValueError(f"backend must be 'auto' or one of {sorted(builders)}, not {backend!r}")
    encoder = builders[backend]()
    if verbose:
        print(f"[semsim] encoder: {backend}" + (f" ({why})" if why else ""))
    return encoder

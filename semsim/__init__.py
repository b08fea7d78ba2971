"""semsim: the thin helper package of the semsim course on sentence embeddings.

Each module is named after its one job, bottom layer first:

* ground: ``errors``, ``paths`` (where data, models and caches live), ``similarity``,
  ``pooling``, ``chunking``, ``synthetic`` (vectors for index benchmarks);
* what exists and where: ``registry`` (the course's models), ``locate`` (offline-first
  lookup), ``data`` (STS-B, its translations, a Wikipedia corpus);
* encoders: ``models`` (loading by name), ``e5`` (the 4-bit E5 adapter), ``quantize``
  (torch int8), ``onnx_encoder`` (ONNX Runtime), ``fingerprints``;
* vectors at rest: ``storage`` (crash-safe save folders), ``cache`` (embeddings on disk),
  ``index`` (the FAISS layer), ``stores`` (the store protocol and Milvus),
  ``milvus_server`` (a local Milvus server);
* applications: ``engine``, ``faq``, ``rerank``, ``training``, ``evaluation``, ``plots``;
* tools: ``measure``, ``doctor``, ``__main__`` (``python -m semsim doctor | prepare``).
"""
from .errors import DatasetNotAvailable, IndexMismatch, ModelNotAvailable, SemsimError
from .models import load_model

__version__ = "0.1.0"
__all__ = ["load_model", "SemsimError", "ModelNotAvailable", "DatasetNotAvailable", "IndexMismatch"]

"""semsim: the thin helper package of the semsim course on sentence embeddings.

Modules are named after what they do: ``models`` (offline-first loading), ``data``
(STS-B and a Wikipedia corpus), ``similarity`` (metrics), ``search`` (a FAISS index),
``faq``, ``rerank``, ``evaluation``, ``training``, ``engine`` and ``doctor``.
"""
from .errors import DatasetNotAvailable, IndexMismatch, ModelNotAvailable, SemsimError
from .models import load_model

__version__ = "0.1.0"
__all__ = ["load_model", "SemsimError", "ModelNotAvailable", "DatasetNotAvailable", "IndexMismatch"]

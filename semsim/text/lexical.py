"""Lexical retrieval: BM25 over a fixed list of texts, with each language's stop words and stemmer.

A thin layer over ``bm25s`` (the BM25 of Lucene's defaults, k1 = 1.5, b = 0.75) and
``PyStemmer`` (Snowball stemmers): it keeps ids beside the texts, lower-cases, drops the
language's stop words, stems, and answers with ids, best first. Notebook 01 shows bm25s's
own calls first.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

LANGUAGES = {"en": "english", "it": "italian"}   # course language -> bm25s stop words and Snowball stemmer


def check_language(language: str) -> str:
    """A language BM25 has stop words and a stemmer for ("en" or "it"); ValueError otherwise."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}, not {language!r}")
    return language


class BM25:
    """BM25 over ``texts`` (with ``ids`` beside them) in language ``language`` ("en" or "it")."""

    def __init__(self, texts: Sequence[str], ids: Sequence[str] | None = None, language: str = "en",
                 stem: bool = True) -> None:
        import bm25s
        import Stemmer

        check_language(language)
        texts = list(texts)
        ids = list(range(len(texts))) if ids is None else list(ids)
        if len(ids) != len(texts) or len(set(ids)) != len(ids):
            raise ValueError(f"ids must be unique and one per text: {len(ids)} ids ({len(set(ids))} distinct) "
                             f"for {len(texts)} texts")
        if not texts:
            raise ValueError("BM25 needs at least one text")
        self.language, self.ids = language, ids
        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer(LANGUAGES[language]) if stem else None
        tokens = self._tokens(texts)
        if not any(tokens):
            raise ValueError("none of the texts has a word left after removing stop words: nothing to index")
        self._index = bm25s.BM25()
        self._index.index(tokens, show_progress=False)

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        return self._bm25s.tokenize(texts, stopwords=LANGUAGES[self.language], stemmer=self._stemmer,
                                    return_ids=False, show_progress=False)

    def search(self, queries: Sequence[str], k: int = 10) -> list[list[tuple[str, float]]]:
        """The ``k`` best (id, score) pairs per query, best first. Only texts that share at least
        one (stemmed, non-stop) word with the query are returned, so a query made only of stop
        words, or an empty one, gets an empty list."""
        if isinstance(queries, str):
            raise TypeError("queries must be a list of strings; wrap a single query in a list")
        k = min(int(k), len(self.ids))
        if k < 1:
            raise ValueError(f"k must be >= 1, not {k}")
        out = []
        for query in queries:
            words = self._tokens([query])[0]
            if not words:
                out.append([])
                continue
            scores = self._index.get_scores(words)
            top = np.argsort(-scores, kind="stable")[:k]
            out.append([(self.ids[i], float(scores[i])) for i in top if scores[i] > 0])
        return out

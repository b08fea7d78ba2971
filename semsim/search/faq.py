"""FAQ matching: answer a user question with the closest FAQ entry, or refuse.

The refusal threshold is not a magic 0.7: ``threshold_table`` measures, for every
candidate threshold, how many questions would be answered correctly, answered wrongly,
or refused, and ``choose_threshold`` picks the best one on held-out questions.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..text.similarity import cosine_matrix


@dataclass(frozen=True)
class FAQEntry:
    id: str
    domain: str
    questions: tuple[str, ...]  # one entry may be asked in several ways or languages
    answer: str


@dataclass(frozen=True)
class Match:
    """The closest entry and its cosine; ``entry`` is None when the score is below the threshold.

    ``alternatives``: the next best entries as (id, cosine), best first — what an FAQ bot
    offers as "did you mean…?"."""

    query: str
    entry: FAQEntry | None
    score: float
    nearest_id: str
    alternatives: tuple[tuple[str, float], ...] = ()

    @property
    def refused(self) -> bool:
        return self.entry is None


def load_course_faq() -> tuple[list[FAQEntry], pd.DataFrame]:
    """The course's own FAQ (24 entries, 4 domains, English + Italian) and its held-out
    user questions (columns text, target, lang; target None = out of scope)."""
    raw = json.loads(resources.files("semsim").joinpath("resources/faq.json").read_text(encoding="utf-8"))
    entries = [FAQEntry(f["id"], f["domain"], (f["question_en"], f["question_it"]), f["answer"]) for f in raw["faq"]]
    return entries, pd.DataFrame(raw["user_questions"])


class FAQMatcher:
    """Match questions to FAQ entries by cosine similarity of sentence embeddings."""

    def __init__(self, model: Any, entries: Sequence[FAQEntry], threshold: float) -> None:
        if not entries:
            raise ValueError("an FAQ needs at least one entry")
        if len({e.id for e in entries}) != len(entries):
            raise ValueError("FAQ entry ids must be unique")
        self.model, self.entries, self.threshold = model, list(entries), float(threshold)
        self._owner = [i for i, e in enumerate(self.entries) for _ in e.questions]
        texts = [q for e in self.entries for q in e.questions]
        self._vectors = np.asarray(model.encode(texts, normalize_embeddings=True))

    def entry_scores(self, queries: Sequence[str]) -> np.ndarray:
        """Cosine of each query with each entry: the best over the entry's wordings, shape (queries, entries)."""
        if isinstance(queries, str):
            raise TypeError("entry_scores() takes a list of questions; use match() for one")
        if not queries or not all(isinstance(q, str) and q.strip() for q in queries):
            raise ValueError("questions must be non-empty strings")
        S = np.asarray(cosine_matrix(np.asarray(self.model.encode(list(queries), normalize_embeddings=True)), self._vectors))
        per_entry = np.full((len(queries), len(self.entries)), -np.inf)
        for col, owner in enumerate(self._owner):
            per_entry[:, owner] = np.maximum(per_entry[:, owner], S[:, col])
        return per_entry

    def nearest(self, queries: Sequence[str]) -> tuple[list[str], np.ndarray]:
        """For each query: the id of the closest entry and its cosine (max over the entry's questions)."""
        per_entry = self.entry_scores(queries)
        best = per_entry.argmax(axis=1)
        return [self.entries[b].id for b in best], per_entry[np.arange(len(per_entry)), best]

    def match(self, query: str, k: int = 3) -> Match:
        """Answer one question, or refuse it when the best score is below the threshold.

        The answer also lists the next ``k - 1`` entries as alternatives."""
        if not isinstance(query, str):
            raise TypeError("a question must be a string")
        scores = self.entry_scores([query])[0]
        ranked = np.argsort(-scores, kind="stable")[:max(1, k)]
        entry = self.entries[ranked[0]]
        return Match(query, entry if scores[ranked[0]] >= self.threshold else None, float(scores[ranked[0]]), entry.id,
                     tuple((self.entries[i].id, float(scores[i])) for i in ranked[1:]))


def threshold_table(scores: Sequence[float], predicted: Sequence[str], targets: Sequence[str | None],
                    thresholds: Sequence[float]) -> pd.DataFrame:
    """Outcomes of every threshold on labelled questions (target None = should be refused).

    Columns: precision (answered questions that got the right entry), recall (in-scope
    questions answered correctly), oos_refused (out-of-scope questions refused),
    refusal_rate (all questions refused), handled (questions answered right or rightly refused).
    """
    s = np.asarray(scores, dtype=float)
    in_scope = np.array([bool(pd.notna(t)) for t in targets])  # None or NaN: out of scope
    right = np.array([p == t for p, t in zip(predicted, targets)]) & in_scope
    rows = []
    for th in thresholds:
        answered = s >= th
        rows.append({
            "threshold": float(th),
            "precision": float((answered & right).sum() / answered.sum()) if answered.any() else 1.0,
            "recall": float((answered & right).sum() / in_scope.sum()) if in_scope.any() else 0.0,
            "oos_refused": float((~answered & ~in_scope).sum() / (~in_scope).sum()) if (~in_scope).any() else 1.0,
            "refusal_rate": float((~answered).mean()),
            "handled": float(((answered & right) | (~answered & ~in_scope)).mean()),
        })
    return pd.DataFrame(rows)


def choose_threshold(table: pd.DataFrame, min_precision: float | None = None) -> float:
    """The threshold that handles most questions correctly (ties: the lowest), optionally
    only among thresholds whose precision reaches ``min_precision``."""
    t = table if min_precision is None else table[table["precision"] >= min_precision]
    if t.empty:
        raise ValueError(f"no threshold reaches precision {min_precision}")
    return float(t.loc[t["handled"].idxmax(), "threshold"])

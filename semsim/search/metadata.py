"""Metadata columns of the FAISS store: one small integer code per row and field (taught in notebook 10).

A field's values are kept once, in a vocabulary; each row holds the code of its value (-1:
absent), so a filter is a vectorised comparison over an int32 column, whatever the values
are. Values keep their JSON types (:func:`semsim.search.vectors.value_key`): ``True``,
``1`` and ``"1"`` get three codes, and a filter on the number ``1`` matches ``1`` and ``1.0``.
"""
from __future__ import annotations

from array import array
from typing import Mapping, Sequence

import numpy as np

from .vectors import Filter, Scalar, filter_values, matching_keys, value_key


class MetadataColumns:
    """Per-row scalar metadata, stored as codes into one vocabulary per field."""

    def __init__(self) -> None:
        self.codes: dict[str, array] = {}                              # field -> code per row (-1: absent)
        self.vocab: dict[str, dict[tuple[str, Scalar], int]] = {}      # field -> value key -> code
        self.values: dict[str, list[Scalar]] = {}                      # field -> value of each code
        self.rows = 0

    @property
    def fields(self) -> list[str]:
        return list(self.codes)

    def append(self, meta: Sequence[Mapping[str, Scalar]]) -> None:
        """Add one row per dict (fields not seen before get a new column, absent for earlier rows)."""
        for f in {k for m in meta for k in m} - set(self.codes):
            self.codes[f] = array("i", [-1]) * self.rows
            self.vocab[f], self.values[f] = {}, []
        for f, codes in self.codes.items():
            vocab, values = self.vocab[f], self.values[f]
            for m in meta:
                value = m.get(f)
                if value is None:
                    codes.append(-1)
                    continue
                key = value_key(value)
                code = vocab.get(key)
                if code is None:
                    code = vocab[key] = len(values)
                    values.append(value)
                codes.append(code)
        self.rows += len(meta)

    def row(self, r: int) -> dict[str, Scalar]:
        """The metadata of row ``r``."""
        return {f: self.values[f][c[r]] for f, c in self.codes.items() if c[r] >= 0}

    def column(self, field: str, rows: Sequence[int]) -> list[Scalar | None]:
        """The values of ``field`` at ``rows`` (None where absent)."""
        codes, values = self.codes[field], self.values[field]
        return [values[codes[r]] if codes[r] >= 0 else None for r in rows]

    def mask(self, flt: Filter, alive: np.ndarray) -> np.ndarray:
        """The rows among ``alive`` whose metadata pass ``flt`` (every field must match one of its values)."""
        mask = alive.copy()
        for key, wanted in filter_values(flt).items():
            if key not in self.codes:
                return np.zeros_like(mask)
            vocab = self.vocab[key]
            codes = [vocab[k] for v in wanted for k in matching_keys(v) if k in vocab]
            mask &= np.isin(np.frombuffer(self.codes[key], dtype=np.int32), codes)
        return mask

"""Errors that semsim raises for things a learner can fix (a missing model, a bad file).

They carry one plain message that says what is wrong and how to fix it. In Jupyter they
print as that message alone, without a traceback (IPython calls ``_render_traceback_``).
"""
from __future__ import annotations


class SemsimError(Exception):
    """Base class: a clear, fixable problem, shown without a stack trace in notebooks."""

    def _render_traceback_(self) -> list[str]:
        return [f"{type(self).__name__}: {self}"]


class ModelNotAvailable(SemsimError):
    """A model has no local copy and the hub cannot be reached (or does not have it)."""


class DatasetNotAvailable(SemsimError):
    """A data set is missing, unreadable or not what it should be."""


class IndexMismatch(SemsimError):
    """Vectors, ids or files that do not belong together (wrong model, wrong dimension)."""

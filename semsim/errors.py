"""Every error semsim raises for something a learner or an operator can fix.

Each carries one plain message that says what is wrong and how to fix it. In Jupyter they
print as that message alone, without a traceback (IPython calls ``_render_traceback_``).
Bad arguments follow Python's and scikit-learn's habit instead: a wrong type raises
``TypeError``, a wrong value ``ValueError``; :class:`IndexMismatch` is both a
:class:`SemsimError` and a ``ValueError`` (vectors, ids or files whose values do not fit).
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


class IndexMismatch(SemsimError, ValueError):
    """Vectors, ids or files that do not belong together (wrong model, wrong dimension, a damaged save)."""


class UnsafeFolder(SemsimError):
    """A save would touch files semsim did not write, or a folder holds links or special files."""


class StaleSave(SemsimError):
    """The folder was saved by someone else after this object was loaded: saving would drop their changes."""


class StoreUnavailable(SemsimError):
    """A vector database cannot be reached (a server that is down, a wrong URI)."""


class ServerNotStarted(SemsimError):
    """The local Milvus server could not start (package missing, ports taken, no disk)."""


class Int8TooLossy(SemsimError):
    """Quantising this model's weights to int8 changes its vectors too much to be useful."""

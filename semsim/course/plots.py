"""Small matplotlib helpers the notebooks share (heatmaps, score histograms)."""
from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np


def _short(text: str, width: int = 38) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def heatmap(matrix: np.ndarray, labels: Sequence[str], title: str = "", col_labels: Sequence[str] | None = None,
            vmin: float | None = None, vmax: float | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """A similarity matrix with its values written in the cells."""
    matrix = np.asarray(matrix)
    cols = labels if col_labels is None else col_labels
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.75 * len(cols) + 2.5, 0.9 + 0.5 * len(labels)))
    im = ax.imshow(matrix, cmap="viridis", vmin=vmin, vmax=vmax)
    ax.set_xticks(range(len(cols)), [_short(c, 22) for c in cols], rotation=40, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), [_short(t) for t in labels], fontsize=8)
    mid = (np.nanmax(matrix) + np.nanmin(matrix)) / 2
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7,
                    color="black" if matrix[i, j] > mid else "white")
    ax.figure.colorbar(im, ax=ax, fraction=0.04)
    ax.set_title(title, fontsize=10)
    return ax


def histograms(samples: dict[str, np.ndarray], title: str = "", xlabel: str = "cosine similarity",
               bins: int = 50, ax: plt.Axes | None = None) -> plt.Axes:
    """Overlaid, density-normalised histograms, one per named sample."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    for name, values in samples.items():
        ax.hist(np.asarray(values), bins=bins, alpha=0.55, density=True, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return ax

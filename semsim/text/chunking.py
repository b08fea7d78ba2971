"""Split long texts into pieces a model can read whole.

A sentence-transformers model reads at most ``model.max_seq_length`` word pieces
(256 for all-MiniLM-L6-v2) and silently drops the rest. ``chunk_text`` cuts a text into
overlapping windows of at most ``max_tokens`` word pieces, on word boundaries, so that
every part of a long document gets its own embedding.
"""
from __future__ import annotations

from typing import Any


def token_count(model: Any, text: str) -> int:
    """Word pieces ``model`` would read for ``text``, before truncation (special tokens included)."""
    return len(model.tokenizer(text, truncation=False, verbose=False)["input_ids"])


def chunk_text(model: Any, text: str, max_tokens: int | None = None, overlap: int = 32) -> list[str]:
    """Overlapping pieces of ``text``, each at most ``max_tokens`` word pieces (default: what the model reads).

    The windows are the tokenizer's own overflowing windows (``return_overflowing_tokens``
    with ``stride=overlap``); each is then trimmed inwards to whole words, so consecutive
    pieces share about ``overlap`` word pieces and a word cut at a window's edge is whole in
    its neighbour. A short text is one piece.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    limit = (max_tokens or model.max_seq_length) - 2  # room for [CLS] and [SEP]
    if limit <= overlap:
        raise ValueError(f"max_tokens ({limit + 2}) must exceed overlap + 2 ({overlap + 2})")
    windows = model.tokenizer(text, add_special_tokens=False, truncation=True, max_length=limit, stride=overlap,
                              return_overflowing_tokens=True, return_offsets_mapping=True, verbose=False)
    offsets = windows["offset_mapping"]
    if len(offsets) == 1:
        return [text.strip()]

    def starts_word(pos: int) -> bool:
        return pos == 0 or text[pos - 1].isspace()

    def ends_word(pos: int) -> bool:
        return pos == len(text) or text[pos].isspace()

    pieces = []
    for spans in offsets:
        spans = [sp for sp in spans if sp[1] > sp[0]]
        first = next((i for i, sp in enumerate(spans) if starts_word(sp[0])), 0)
        last = next((i for i in range(len(spans) - 1, -1, -1) if ends_word(spans[i][1])), len(spans) - 1)
        piece = text[spans[first][0]:spans[max(first, last)][1]].strip()
        if piece and (not pieces or piece != pieces[-1]):
            pieces.append(piece)
    return pieces

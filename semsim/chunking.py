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

    Pieces end on whitespace, and consecutive pieces share about ``overlap`` word pieces so
    that a sentence cut in two is still whole in one of them. A short text is one piece.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    limit = (max_tokens or model.max_seq_length) - 2  # room for [CLS] and [SEP]
    if limit <= overlap:
        raise ValueError(f"max_tokens ({limit + 2}) must exceed overlap + 2 ({overlap + 2})")
    enc = model.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False)
    offsets = enc["offset_mapping"]
    if len(offsets) <= limit:
        return [text.strip()]
    pieces, start = [], 0
    while start < len(offsets):
        end = min(start + limit, len(offsets))
        # back off to a token that starts a word, so no word is cut in half
        while end < len(offsets) and end > start + 1 and offsets[end][0] == offsets[end - 1][1]:
            end -= 1
        pieces.append(text[offsets[start][0]:offsets[end - 1][1]].strip())
        if end == len(offsets):
            break
        nxt = max(end - overlap, start + 1)
        while nxt < end and nxt > start + 1 and offsets[nxt][0] == offsets[nxt - 1][1]:
            nxt -= 1
        start = nxt
    return pieces

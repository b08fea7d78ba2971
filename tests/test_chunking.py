import pytest

from semsim.text.chunking import chunk_text, token_count


def test_short_text_is_one_piece(minilm):
    assert chunk_text(minilm, "  A short sentence.  ") == ["A short sentence."]


def test_long_text_is_cut_into_readable_overlapping_pieces(minilm):
    words = [f"word{i}" for i in range(600)]
    text = " ".join(words)
    pieces = chunk_text(minilm, text, max_tokens=64, overlap=8)
    assert len(pieces) > 3
    assert all(token_count(minilm, p) <= 64 for p in pieces)
    assert pieces[0].startswith("word0 ") and pieces[-1].endswith("word599")
    for a, b in zip(pieces, pieces[1:]):  # overlap, and no word cut in half
        assert a.split()[-1] in b.split() and set(b.split()) <= set(words)
    assert set(" ".join(pieces).split()) == set(words)  # nothing dropped


def test_windows_are_the_tokenizers_own(minilm):
    text = " ".join(f"w{i}" for i in range(300))
    pieces = chunk_text(minilm, text, max_tokens=66, overlap=16)
    windows = minilm.tokenizer(text, add_special_tokens=False, truncation=True, max_length=64, stride=16,
                               return_overflowing_tokens=True)["input_ids"]
    assert len(pieces) == len(windows)  # one piece per overflowing window of the library


def test_bad_input(minilm):
    with pytest.raises(ValueError):
        chunk_text(minilm, "   ")
    with pytest.raises(ValueError):
        chunk_text(minilm, "text", max_tokens=10, overlap=20)

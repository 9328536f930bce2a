import json

import numpy as np
import pytest

from seqlab.text import Vocab, load_vectors

DOCS = [["b", "a", "c", "a"], ["c", "d", "a"], ["e", "b"]]


def test_order_is_frequency_then_alphabetical_and_specials_first():
    vocab = Vocab.build(DOCS)
    # counts: a 3, b 2, c 2, d 1, e 1 -> ties broken alphabetically
    assert vocab.itos == ["<pad>", "<unk>", "a", "b", "c", "d", "e"]
    assert vocab["a"] == 2 and vocab["zzz"] == vocab.unk_index == 1 and vocab.pad_index == 0
    assert vocab == Vocab.build(reversed(DOCS))


def test_max_size_counts_ordinary_tokens_and_min_freq_drops_rare_ones():
    assert len(Vocab.build(DOCS, max_size=2)) == 4  # like torchtext: 10000 -> 10002
    assert Vocab.build(DOCS, min_freq=2).itos[2:] == ["a", "b", "c"]


def test_encode_decode():
    vocab = Vocab.build(DOCS)
    ids = vocab.encode(["a", "new", "e"])
    assert ids.dtype == np.int64 and ids.tolist() == [2, 1, 6]
    assert vocab.decode(ids) == ["a", "<unk>", "e"]


def test_save_load_round_trip(tmp_path):
    vocab = Vocab.build(DOCS)
    path = vocab.save(tmp_path / "vocab.json")
    assert Vocab.load(path) == vocab


def test_load_errors(tmp_path):
    path = tmp_path / "vocab.json"
    path.write_text(json.dumps({"format": 99, "tokens": ["<pad>", "<unk>"]}))
    with pytest.raises(ValueError, match="newer"):
        Vocab.load(path)
    path.write_text(json.dumps({"tokens": ["a", "b"]}))
    with pytest.raises(ValueError, match="must start with"):
        Vocab.load(path)
    with pytest.raises(ValueError, match="no such vocabulary"):
        Vocab.load(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build(DOCS, min_freq=0)


@pytest.mark.parametrize("header", [False, True])
def test_load_vectors_glove_and_word2vec_text(tmp_path, header):
    vocab = Vocab.build(DOCS)
    lines = ["a 1 2 3", "zzz 9 9 9", "e 0.5 0.5 -1"]
    if header:
        lines.insert(0, "3 3")
    path = tmp_path / "vectors.txt"
    path.write_text("\n".join(lines) + "\n")
    matrix, found = load_vectors(path, vocab)
    assert found == 2 and matrix.shape == (len(vocab), 3)
    np.testing.assert_array_equal(matrix[vocab["a"]], [1, 2, 3])
    np.testing.assert_array_equal(matrix[vocab["e"]], [0.5, 0.5, -1])
    np.testing.assert_array_equal(matrix[0], 0)
    assert np.abs(matrix[vocab["b"]]).sum() > 0  # absent word: random row


def test_load_vectors_ragged_line_names_it(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("a 1 2 3\nb 1 2\n")
    with pytest.raises(ValueError, match="line 2"):
        load_vectors(path, Vocab.build(DOCS))

import pickle

import pytest

from seqlab.text import Tokenizer


def test_lowercases_strips_html_and_splits_punctuation():
    tok = Tokenizer()
    text = "A <b>GREAT</b> film.<br /><br />I didn't expect it &amp; loved it!"
    assert tok(text) == [
        "a", "great", "film", ".", "i", "didn't", "expect", "it", "&", "loved", "it", "!",
    ]  # fmt: skip


def test_punctuation_drop_is_the_seed_cleaning():
    tok = Tokenizer(punctuation="drop")
    assert tok("Bad... really <br />BAD, 2/10!") == ["bad", "really", "bad", "2", "10"]


def test_options_off_keep_case_and_tags():
    tok = Tokenizer(lower=False, strip_html=False)
    assert tok("Hi<br>") == ["Hi", "<", "br", ">"]


def test_non_ascii_letters_are_words():
    assert Tokenizer()("Amélie était géniale") == ["amélie", "était", "géniale"]


def test_pickle_and_json_round_trip():
    tok = Tokenizer(punctuation="drop")
    assert pickle.loads(pickle.dumps(tok)) == tok
    assert Tokenizer.from_dict(tok.to_dict()) == tok


def test_bad_settings():
    with pytest.raises(ValueError, match="punctuation"):
        Tokenizer(punctuation="maybe")
    with pytest.raises(TypeError, match="lower"):
        Tokenizer(lower="yes")
    with pytest.raises(ValueError, match="unknown tokenizer settings"):
        Tokenizer.from_dict({"type": "regex", "stem": True})
    with pytest.raises(ValueError, match="unknown tokenizer type"):
        Tokenizer.from_dict({"type": "bpe"})
    with pytest.raises(TypeError, match="str"):
        Tokenizer()(b"bytes")

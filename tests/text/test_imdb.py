import io
import logging
import tarfile

import numpy as np
import pytest

from seqlab.text import Tokenizer, load_imdb, load_imdb_tokenized


def test_folder_and_tarball_give_the_same_data(imdb_tree, imdb_tarball):
    folder = load_imdb(imdb_tree, "train")
    archive = load_imdb(imdb_tarball, "train")
    assert len(folder) == 40
    assert folder.texts == archive.texts and folder.ids == archive.ids
    assert np.array_equal(folder.labels, archive.labels)
    assert np.array_equal(folder.ratings, archive.ratings)
    # label from the folder, rating from the file name
    for ident, label, rating in zip(folder.ids, folder.labels, folder.ratings, strict=True):
        folder_name, name = ident.split("/")
        assert label == (folder_name == "pos")
        assert rating == int(name.split("_")[1])
        assert (rating >= 7) == bool(label)
    # the folder holding aclImdb works too
    assert load_imdb(imdb_tree.parent, "test").ids == load_imdb(imdb_tarball, "test").ids


def test_unsup_split(imdb_tarball):
    unsup = load_imdb(imdb_tarball, "unsup")
    assert len(unsup) == 10 and set(unsup.labels) == {-1} and set(unsup.ratings) == {0}


def test_missing_split_names_the_path_and_what_is_there(tmp_path, imdb_tools):
    tree = imdb_tools.write_tree(tmp_path / "t", splits=("train",))
    tarball = imdb_tools.write_tarball(tree, tmp_path / "aclImdb_train.tar.gz")
    with pytest.raises(
        ValueError, match=r"aclImdb_train\.tar\.gz: no 'test' reviews.*holds: train, unsup"
    ):
        load_imdb(tarball, "test")


def test_wrong_layout_and_bad_archives(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty: no 'train' reviews"):
        load_imdb(empty, "train")
    not_tar = tmp_path / "notes.tar.gz"
    not_tar.write_bytes(b"this is not an archive at all")
    with pytest.raises(ValueError, match=r"notes\.tar\.gz: not a readable tar archive"):
        load_imdb(not_tar, "train")
    with pytest.raises(ValueError, match="no such file"):
        load_imdb(tmp_path / "missing.tar.gz", "train")
    with pytest.raises(ValueError, match="split must be one of"):
        load_imdb(empty, "validation")


def test_truncated_tarball(tmp_path, imdb_tarball):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(imdb_tarball.read_bytes()[: imdb_tarball.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"cut\.tar\.gz: not a readable tar archive.*truncated"):
        load_imdb(cut, "train")


def _tar_with(path, members):
    with tarfile.open(path, "w:gz") as archive:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return path


def test_links_and_traversal_are_rejected(tmp_path):
    good = ("aclImdb/train/pos/0_9.txt", b"fine", "file")
    link = _tar_with(tmp_path / "l.tar.gz", [good, ("aclImdb/train/neg/1_2.txt", b"", "sym")])
    with pytest.raises(ValueError, match="is a link"):
        load_imdb(link, "train")
    escape = _tar_with(tmp_path / "e.tar.gz", [("../train/pos/3_8.txt", b"x", "file"), good])
    with pytest.raises(ValueError, match="outside the archive"):
        load_imdb(escape, "train")


def test_bad_bytes_replaced_and_counted_empty_skipped(tmp_path, caplog):
    members = [
        ("aclImdb/train/pos/0_9.txt", "good caf\u00e9".encode(), "file"),
        ("aclImdb/train/pos/1_8.txt", b"latin-1 caf\xe9 here", "file"),
        ("aclImdb/train/neg/2_1.txt", b"   \n", "file"),
        ("aclImdb/train/neg/3_2.txt", b"bad", "file"),
    ]
    path = _tar_with(tmp_path / "b.tar.gz", members)
    with caplog.at_level(logging.WARNING):
        data = load_imdb(path, "train")
    assert len(data) == 3 and data.skipped_empty == 1
    assert data.replaced_documents == 1 and data.replaced_bytes == 1
    assert "caf\ufffd" in data.texts[data.ids.index("pos/1_8")]
    assert "undecodable" in caplog.text and "empty" in caplog.text
    with pytest.raises(ValueError, match=r"pos/1_8.txt: not valid UTF-8"):
        load_imdb(path, "train", encoding_errors="strict")


def test_utf16_file_is_an_error(tmp_path):
    members = [("aclImdb/train/pos/0_9.txt", "a review".encode("utf-16"), "file")]
    with pytest.raises(ValueError, match=r"0_9\.txt: not UTF-8 text"):
        load_imdb(_tar_with(tmp_path / "u.tar.gz", members), "train")


def test_token_cache_skips_work_the_second_time(tmp_path, imdb_tarball, monkeypatch):
    cache = tmp_path / "cache"
    first = load_imdb_tokenized(imdb_tarball, ("train", "unsup"), cache_dir=cache)
    assert not first["train"].from_cache
    assert len(list((cache / "tokens").iterdir())) == 2

    import seqlab.text.imdb as imdb_module

    def no_reading(*args, **kwargs):
        raise AssertionError("the source was read again")

    monkeypatch.setattr(imdb_module, "_read_raw", no_reading)
    second = load_imdb_tokenized(imdb_tarball, ("train", "unsup"), cache_dir=cache)
    assert second["train"].from_cache and second["unsup"].from_cache
    for split in ("train", "unsup"):
        assert second[split].tokens == first[split].tokens
        assert second[split].ids == first[split].ids
        assert np.array_equal(second[split].labels, first[split].labels)
    monkeypatch.undo()

    # other settings, or a changed source, make a new entry instead of a stale hit
    other = load_imdb_tokenized(
        imdb_tarball, "train", Tokenizer(punctuation="drop"), cache_dir=cache
    )
    assert not other["train"].from_cache and "." not in other["train"].tokens[0]
    imdb_tarball.write_bytes(imdb_tarball.read_bytes())  # new mtime
    assert not load_imdb_tokenized(imdb_tarball, "train", cache_dir=cache)["train"].from_cache


@pytest.mark.slow
def test_shared_train_tarball(shared_data, tmp_path):
    path = shared_data / "imdb" / "aclImdb_train.tar.gz"
    if not path.exists():
        pytest.skip(f"{path} is missing")
    data = load_imdb_tokenized(path, ("train", "unsup"), cache_dir=tmp_path)
    assert len(data["train"]) == 25_000 and len(data["unsup"]) == 50_000
    assert (data["train"].labels == 1).sum() == 12_500
    with pytest.raises(ValueError, match="no 'test' reviews"):
        load_imdb(path, "test")

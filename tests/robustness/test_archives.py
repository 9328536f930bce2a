"""IMDB data that is hostile or degenerate: special files, links, huge members, one class.

Each case builds a small aclImdb folder or tarball in tmp_path and either runs
``seqlab imdb train`` on it (one line, exit 2, no run folder and no cache written) or
reads it with :func:`seqlab.text.load_imdb` where the outcome is a data set (skipped
entries are counted and named in a warning, never read).
"""

from __future__ import annotations

import io
import logging
import os
import sys
import tarfile
from pathlib import Path

import pytest

import seqlab.text.imdb as imdb
from seqlab.text import load_imdb

sys.path.insert(0, str(Path(__file__).parent))

from _clihelp import assert_user_error, imdb_train_args, run_cli, snapshot

REVIEW = b"a great film, moving and brilliant. loved it"


def _member(name: str, data: bytes = REVIEW, kind: bytes = tarfile.REGTYPE) -> tuple:
    return name, data, kind


def _tarball(path: Path, members: list[tuple]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                info.devmajor, info.devminor = 1, 3  # /dev/null's numbers
                archive.addfile(info)
    return path


def _reviews(label: str, count: int, kind: bytes = tarfile.REGTYPE, start: int = 0) -> list:
    rating = 9 if label == "pos" else 2
    return [
        _member(f"aclImdb/train/{label}/{i}_{rating}.txt", REVIEW + str(i).encode(), kind)
        for i in range(start, start + count)
    ]


def _unsup(count: int = 3) -> list:
    return [_member(f"aclImdb/train/unsup/{i}_0.txt", REVIEW) for i in range(count)]


def _folder(root: Path, per_class: int = 6) -> Path:
    tree = root / "aclImdb"
    for label, rating in (("pos", 9), ("neg", 2)):
        (tree / "train" / label).mkdir(parents=True)
        for i in range(per_class):
            (tree / "train" / label / f"{i}_{rating}.txt").write_bytes(REVIEW + str(i).encode())
    return tree


def _train_fails(
    data: Path, tmp_path: Path, capsys, *fragments: str, extra=(), read: bool = False
) -> None:
    """``imdb train`` on ``data``: one-line error, no run folder written.

    ``read``: the data itself was readable, so its tokenised copy may be cached (the
    cache folder is the one other place written); otherwise nothing is written at all.
    """
    run, cache = tmp_path / "run", tmp_path / "cache"
    before = snapshot(tmp_path)
    code, out, err = run_cli(imdb_train_args(data, run, cache, *extra), capsys)
    assert_user_error(code, err, *fragments)
    assert out == ""
    assert snapshot(tmp_path, exclude=cache if read else None) == before
    assert not run.exists()


@pytest.mark.parametrize(
    "kind", [tarfile.FIFOTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.DIRTYPE]
)
def test_tar_whose_negative_reviews_are_special_files(kind, tmp_path, capsys):
    tar = _tarball(tmp_path / "imdb.tar.gz", _reviews("pos", 8) + _reviews("neg", 8, kind))
    _train_fails(
        tar,
        tmp_path,
        capsys,
        "no readable train/neg reviews (8 entries there are not regular files and were skipped)",
    )


def test_tar_with_some_special_members_skips_and_counts_them(tmp_path, caplog):
    members = _reviews("pos", 6) + _reviews("neg", 6) + _reviews("neg", 2, tarfile.FIFOTYPE, 6)
    tar = _tarball(tmp_path / "imdb.tar.gz", members)
    with caplog.at_level(logging.WARNING, logger="seqlab.text.imdb"):
        data = load_imdb(tar, "train")
    assert len(data) == 12 and data.skipped_special == 2
    assert sorted(set(data.labels.tolist())) == [0, 1]
    assert "skipped 2 entries" in caplog.text and "train/neg 2" in caplog.text


def test_folder_whose_negative_reviews_are_fifos(tmp_path, capsys):
    tree = _folder(tmp_path / "data")
    for path in (tree / "train" / "neg").iterdir():
        path.unlink()
        os.mkfifo(path)  # reading one would block forever
    _train_fails(tree, tmp_path, capsys, "no readable train/neg reviews (6 entries there")


def test_one_class_only(tmp_path, capsys):
    tar = _tarball(tmp_path / "imdb.tar.gz", _reviews("pos", 10))
    _train_fails(tar, tmp_path, capsys, "no readable train/neg reviews;", "train/pos holds 10")


def test_too_few_reviews_to_split(tmp_path, capsys):
    tar = _tarball(tmp_path / "imdb.tar.gz", _reviews("pos", 2) + _reviews("neg", 2) + _unsup())
    _train_fails(
        tar,
        tmp_path,
        capsys,
        "too few reviews to split: the validation part would hold no reviews",
        "at least 3 of each class",
        extra=("--valid-split", "random"),  # these tarballs carry no urls files
        read=True,
    )


def test_a_limit_that_leaves_one_class(tmp_path, capsys):
    # 30 positive reviews and 3 negative ones: 10 drawn at random from the training part
    # hold no negative review (seed 0), which is refused rather than trained on.
    tar = _tarball(tmp_path / "imdb.tar.gz", _reviews("pos", 30) + _reviews("neg", 3) + _unsup())
    _train_fails(
        tar,
        tmp_path,
        capsys,
        "training part would hold 10 reviews of one class only",
        extra=("--limit", "10", "--valid-split", "random"),
        read=True,
    )


def test_directory_link_out_of_the_data_root_is_not_followed(tmp_path, capsys):
    outside = _folder(tmp_path / "elsewhere") / "train" / "neg"
    tree = _folder(tmp_path / "data")
    neg = tree / "train" / "neg"
    for path in neg.iterdir():
        path.unlink()
    neg.rmdir()
    neg.symlink_to(outside, target_is_directory=True)
    _train_fails(tree, tmp_path, capsys, "no readable train/neg reviews (1 entries there")


def test_file_links_out_of_the_data_root_are_skipped(tmp_path, caplog):
    secret = tmp_path / "secret_9.txt"
    secret.write_text("not a review")
    tree = _folder(tmp_path / "data")
    (tree / "train" / "pos" / "99_9.txt").symlink_to(secret)
    with caplog.at_level(logging.WARNING, logger="seqlab.text.imdb"):
        data = load_imdb(tree, "train")
    assert len(data) == 12 and data.skipped_special == 1
    assert all("not a review" not in text for text in data.texts)
    assert "train/pos 1" in caplog.text


def test_links_inside_the_data_root_are_followed(tmp_path):
    # The one rule: a link is followed when it stays inside the data root, for files and
    # folders alike.
    tree = _folder(tmp_path / "data")
    store = tmp_path / "data" / "store"
    (tree / "train" / "neg").rename(store)
    (tree / "train" / "neg").symlink_to(store, target_is_directory=True)
    (tree / "train" / "pos" / "50_9.txt").symlink_to(tree / "train" / "pos" / "0_9.txt")
    data = load_imdb(tmp_path / "data", "train")
    assert len(data) == 13 and data.skipped_special == 0
    assert (data.labels == 0).sum() == 6


def test_huge_member_is_refused_without_reading_it(tmp_path, capsys):
    huge = b"word " * (imdb.MAX_REVIEW_BYTES // 5 + 1)
    members = (
        _reviews("pos", 5) + _reviews("neg", 5) + [_member("aclImdb/train/neg/77_1.txt", huge)]
    )
    tar = _tarball(tmp_path / "imdb.tar.gz", members)
    _train_fails(tar, tmp_path, capsys, "member 'aclImdb/train/neg/77_1.txt' is 1,048,580 bytes")


def test_huge_file_in_a_folder_is_refused(tmp_path, capsys):
    tree = _folder(tmp_path / "data")
    (tree / "train" / "pos" / "77_9.txt").write_bytes(b"x" * (imdb.MAX_REVIEW_BYTES + 1))
    _train_fails(tree, tmp_path, capsys, "train/pos/77_9.txt: larger than 1,048,576 bytes")


def test_decompressed_stream_is_capped(tmp_path, capsys, monkeypatch):
    # A gzip bomb in miniature: a member that is not a review but decompresses past the
    # cap (the cap lowered so the archive stays small).
    monkeypatch.setattr(imdb, "MAX_STREAM_BYTES", 100_000)
    members = [_member("aclImdb/padding.bin", bytes(200_000)), *_reviews("pos", 5)]
    tar = _tarball(tmp_path / "imdb.tar.gz", members + _reviews("neg", 5))
    _train_fails(tar, tmp_path, capsys, "more than 100,000 bytes decompressed")


def test_total_review_text_is_capped(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(imdb, "MAX_TOTAL_BYTES", 300)
    tar = _tarball(tmp_path / "imdb.tar.gz", _reviews("pos", 10) + _reviews("neg", 10))
    _train_fails(tar, tmp_path, capsys, "more than 300 bytes of review text")


def test_members_escaping_the_archive_are_refused(tmp_path, capsys):
    members = [*_reviews("pos", 5), *_reviews("neg", 5), _member("../aclImdb/train/neg/9_1.txt")]
    tar = _tarball(tmp_path / "imdb.tar.gz", members)
    _train_fails(tar, tmp_path, capsys, "points outside the archive")


def test_nothing_is_extracted(tmp_path):
    # Reading an archive writes no file anywhere under tmp_path (members are streamed).
    tar = _tarball(tmp_path / "imdb.tar.gz", _reviews("pos", 4) + _reviews("neg", 4))
    before = snapshot(tmp_path)
    assert len(load_imdb(tar, "train")) == 8
    assert snapshot(tmp_path) == before

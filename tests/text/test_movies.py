"""Each review's movie from the aclImdb urls files, and the split that keeps movies apart."""

import io
import tarfile

import numpy as np
import pytest

from seqlab.text import find_movie_urls, grouped_split, movie_of_reviews, read_movie_urls


def _url(n: int) -> str:
    return f"http://www.imdb.com/title/tt{n:07d}/usercomments"


def _tarball(path, members: dict[str, bytes]):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _lines(*numbers: int) -> bytes:
    return "".join(_url(n) + "\n" for n in numbers).encode()


def test_read_urls_from_a_tarball_and_a_folder(tmp_path):
    members = {
        "aclImdb/train/urls_pos.txt": _lines(5, 5, 7),
        "aclImdb/train/urls_neg.txt": _lines(7, 9),
        "aclImdb/train/pos/0_9.txt": b"not read",
    }
    path = _tarball(tmp_path / "aclImdb_train_urls.tar.gz", members)
    urls = read_movie_urls(path)
    assert urls == {"pos": ["tt0000005"] * 2 + ["tt0000007"], "neg": ["tt0000007", "tt0000009"]}
    folder = tmp_path / "tree" / "aclImdb" / "train"
    folder.mkdir(parents=True)
    (folder / "urls_pos.txt").write_bytes(members["aclImdb/train/urls_pos.txt"])
    (folder / "urls_neg.txt").write_bytes(members["aclImdb/train/urls_neg.txt"])
    assert read_movie_urls(tmp_path / "tree") == urls
    assert find_movie_urls(tmp_path / "tree") == tmp_path / "tree"


def test_a_bad_line_names_the_file_and_the_line(tmp_path):
    bad = _lines(1, 2) + b"javascript:alert(1)\n" + _lines(3)
    path = _tarball(tmp_path / "u.tar.gz", {"aclImdb/train/urls_neg.txt": bad})
    with pytest.raises(ValueError, match=r"u\.tar\.gz: aclImdb/train/urls_neg\.txt line 3: not an"):
        read_movie_urls(path)
    path = _tarball(tmp_path / "v.tar.gz", {"aclImdb/train/urls_pos.txt": b"\xff\xfe\n"})
    with pytest.raises(ValueError, match=r"urls_pos\.txt line 1: not UTF-8"):
        read_movie_urls(path)
    with pytest.raises(ValueError, match=r"no train/urls_pos\.txt"):
        read_movie_urls(_tarball(tmp_path / "w.tar.gz", {"aclImdb/train/pos/0_9.txt": b"x"}))
    with pytest.raises(TypeError):
        read_movie_urls(3)


def test_members_the_data_filter_refuses_are_errors(tmp_path):
    path = _tarball(tmp_path / "abs.tar.gz", {"/etc/train/urls_pos.txt": _lines(1)})
    with pytest.raises(ValueError, match="refused"):
        read_movie_urls(path)
    path = _tarball(tmp_path / "up.tar.gz", {"../train/urls_pos.txt": _lines(1)})
    with pytest.raises(ValueError, match="refused"):
        read_movie_urls(path)
    link = tmp_path / "link.tar.gz"
    with tarfile.open(link, "w:gz") as archive:
        info = tarfile.TarInfo("aclImdb/train/urls_pos.txt")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        archive.addfile(info)
    with pytest.raises(ValueError, match="refused"):
        read_movie_urls(link)


def test_find_movie_urls_next_to_a_train_tarball(tmp_path):
    data = tmp_path / "aclImdb_train.tar.gz"
    data.write_bytes(b"")
    sibling = _tarball(tmp_path / "aclImdb_train_urls.tar.gz", {"train/urls_pos.txt": _lines(1)})
    assert find_movie_urls(data) == sibling
    (tmp_path / "other").mkdir()
    assert find_movie_urls(tmp_path / "other" / "absent") is None


def test_movie_of_reviews_checks_the_lines():
    urls = {"pos": ["tt1", "tt2"], "neg": ["tt2"]}
    movies = movie_of_reviews(["pos/1_8", "neg/0_2", "pos/0_10"], urls, "U")
    assert movies.tolist() == ["tt2", "tt2", "tt1"]
    with pytest.raises(ValueError, match=r"U: train/urls_neg\.txt has 1 lines.*line 4"):
        movie_of_reviews(["neg/3_1"], urls, "U")
    with pytest.raises(ValueError, match=r"no train/urls_unsup\.txt"):
        movie_of_reviews(["unsup/0_0"], urls, "U")


def test_grouped_split_keeps_groups_apart_and_the_class_shares():
    rng = np.random.default_rng(1)
    groups = rng.integers(0, 300, size=3000)
    labels = (rng.random(3000) < 0.3 + 0.4 * (groups % 2)).astype(int)
    train, valid = grouped_split(labels, groups, 0.2, seed=3)
    assert not set(groups[train]) & set(groups[valid])
    assert sorted(np.concatenate([train, valid]).tolist()) == list(range(3000))
    for value in (0, 1):
        target = round((labels == value).sum() * 0.2)
        got = (labels[valid] == value).sum()
        assert abs(got - target) < np.bincount(groups).max()
    again = grouped_split(labels, groups, 0.2, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, valid), strict=True))
    other = grouped_split(labels, groups, 0.2, seed=4)
    assert not np.array_equal(other[1], valid)
    # Groups larger than a target still give a validation part holding both labels.
    small = np.repeat(np.arange(4), 6)
    train_small, valid_small = grouped_split(np.tile([0, 0, 0, 1, 1, 1], 4), small, 0.2, 0)
    assert len(valid_small) == 6 and not set(small[train_small]) & set(small[valid_small])
    with pytest.raises(ValueError, match="one entry per label"):
        grouped_split(labels, groups[:-1])
    with pytest.raises(ValueError, match="valid_fraction"):
        grouped_split(labels, groups, 1.0)

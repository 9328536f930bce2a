"""The one run-folder layout: run.json written last, listing files that must exist."""

from __future__ import annotations

import json

import pytest

from seqlab._schema import read_run_manifest, run_manifest_kind
from seqlab.io import RUN_FORMAT_VERSION, write_run_folder


def _write(run_dir, files=None, **kwargs):
    return write_run_folder(
        run_dir,
        kind=kwargs.pop("kind", "example"),
        cls=dict,
        params={"size": 3},
        state={"fitted": [1.0, 2.0]},
        files={"a.bin": b"abc"} if files is None else files,
        **kwargs,
    )


def test_manifest_lists_the_files_and_reads_back(tmp_path):
    run = _write(tmp_path / "run")
    assert sorted(p.name for p in run.iterdir()) == ["a.bin", "run.json"]
    manifest = read_run_manifest(run, kinds=["example"])
    assert manifest["format"] == "seqlab-run"
    assert manifest["format_version"] == RUN_FORMAT_VERSION
    assert manifest["class"] == "builtins.dict"
    assert manifest["params"] == {"size": 3} and manifest["state"] == {"fitted": [1.0, 2.0]}
    assert manifest["files"] == ["a.bin"]
    assert run_manifest_kind(run) == "example"


def test_an_interrupted_write_leaves_no_manifest_and_no_partial_files(tmp_path):
    def fails(path):
        path.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _write(tmp_path / "run", files={"a.bin": b"abc", "b.bin": fails})
    assert not (tmp_path / "run").exists()  # created by the call, so removed with it
    # Over an existing run: its manifest goes first, so the folder no longer loads as it.
    _write(tmp_path / "old")
    with pytest.raises(KeyboardInterrupt):
        _write(tmp_path / "old", files={"b.bin": fails})
    assert not (tmp_path / "old" / "run.json").exists()
    with pytest.raises(ValueError, match="not a seqlab run folder"):
        read_run_manifest(tmp_path / "old")


def test_older_manifests_are_replaced(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "arima.json").write_text("{}")
    assert run_manifest_kind(tmp_path / "run") == "arima"
    _write(tmp_path / "run", replaces=["arima.json"])
    assert not (tmp_path / "run" / "arima.json").exists()
    assert run_manifest_kind(tmp_path / "run") == "example"
    assert run_manifest_kind(tmp_path) is None


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (lambda m: m.update(format="other"), "format: expected 'seqlab-run'"),
        (lambda m: m.update(format_version=RUN_FORMAT_VERSION + 1), "written by a newer seqlab"),
        (lambda m: m.update(format_version="2"), "format_version: expected an integer"),
        (lambda m: m.update(kind="lstm"), "kind: expected one of ['example']"),
        (lambda m: m.update(params=[1]), "params: expected a JSON object"),
        (lambda m: m.update(files=["../etc/passwd"]), "is not a plain file name"),
        (lambda m: m.update(files=["b.bin"]), "b.bin: listed in run.json but missing"),
        (lambda m: m.pop("state"), "missing key(s) ['state']"),
        (lambda m: m.update(extra=1), "unknown key(s) ['extra']"),
    ],
)
def test_a_damaged_manifest_is_one_error_naming_it(tmp_path, change, fragment):
    run = _write(tmp_path / "run")
    manifest = json.loads((run / "run.json").read_text())
    change(manifest)
    (run / "run.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError) as info:
        read_run_manifest(run, kinds=["example"])
    assert fragment in str(info.value)
    assert "run.json" in str(info.value) or "b.bin" in str(info.value)


def test_file_names_must_be_plain(tmp_path):
    for name in ("run.json", "sub/a.bin"):
        with pytest.raises(ValueError, match="plain file name"):
            _write(tmp_path / "run", files={name: b"x"})
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="exists and is not a folder"):
        _write(tmp_path / "file")

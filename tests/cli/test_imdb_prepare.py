"""``seqlab imdb train``'s data preparation: --unlabelled/--no-unlabelled, the cache
note on a second run, --quiet, and ``imdb evaluate``'s progress, on a tiny tarball."""

import json
from pathlib import Path

import seqlab._progress as progress_module
from seqlab.cli import main


def _train(tarball, out, cache, *extra):
    argv = ["imdb", "train", "--data", str(tarball), "--out", str(out), "--epochs", "1"]
    argv += ["--embedding-dim", "8", "--hidden-size", "8", "--cache-dir", str(cache), *extra]
    return main(argv)


def _recipe(out: Path) -> dict:
    return json.loads((out / "text_pipeline.json").read_text())["recipe"]


def test_unlabelled_flag_is_recorded_in_the_run(tarball, tmp_path):
    cache = tmp_path / "cache"
    assert _train(tarball, tmp_path / "off", cache, "--no-unlabelled", "--quiet") == 0
    assert _recipe(tmp_path / "off")["use_unsup"] is False
    assert _train(tarball, tmp_path / "on", cache, "--unlabelled", "--quiet") == 0
    assert _recipe(tmp_path / "on")["use_unsup"] is True
    # without the flag, the preset decides (the default preset uses them)
    assert _train(tarball, tmp_path / "preset", cache, "--quiet") == 0
    assert _recipe(tmp_path / "preset")["use_unsup"] is True


def test_second_run_says_the_cache_was_used(tarball, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress_module, "PROGRESS_DELAY_S", 0.0)
    cache = tmp_path / "cache"
    assert _train(tarball, tmp_path / "r1", cache, "--limit", "40") == 0
    first = capsys.readouterr()
    assert "tokenising train" in first.err and "read from the cache" not in first.err
    assert _train(tarball, tmp_path / "r2", cache, "--limit", "40") == 0
    second = capsys.readouterr()
    assert "read from the cache" in second.err and "tokenising train" not in second.err
    assert "best valid accuracy" in second.out
    assert _train(tarball, tmp_path / "r3", cache, "--limit", "40", "--quiet") == 0
    assert "read from the cache" not in capsys.readouterr().err

    evaluate = ["imdb", "evaluate", "--run", str(tmp_path / "r2"), "--data", str(tarball)]
    code = main([*evaluate, "--cache-dir", str(cache)])
    assert code == 0
    shown = capsys.readouterr()
    assert "evaluating on valid" in shown.err and "valid: accuracy" in shown.out
    assert main([*evaluate, "--cache-dir", str(cache), "--quiet"]) == 0
    assert capsys.readouterr().err == ""

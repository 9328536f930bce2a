"""``seqlab imdb train --preset pretrained`` and ``seqlab imdb generate`` on the tiny tarball."""

import json

import pytest

from seqlab.cli import main


@pytest.fixture(scope="module")
def lm_run(tarball, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    argv = ["imdb", "train", "--data", str(tarball), "--out", str(out), "--preset", "pretrained"]
    argv += ["--epochs", "1", "--embedding-dim", "16", "--hidden-size", "16", "--quiet"]
    assert main([*argv, "--cache-dir", str(out.parent / "cache")]) == 0
    return out


def _generate(capsys, run, *extra: str) -> tuple[int, str, str]:
    code = main(["imdb", "generate", "--run", str(run), "This movie", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_pretrained_run_holds_its_language_model(lm_run):
    record = json.loads((lm_run / "lm" / "pretrain.json").read_text())
    assert record["key"]["settings"]["hidden_size"] == 16
    assert (lm_run / "model.safetensors").is_file()
    recipe = json.loads((lm_run / "text_pipeline.json").read_text())["recipe"]
    assert recipe["model"]["encoder"] == "lstm" and recipe["pretrain"]["hidden_size"] == 16


def test_same_seed_same_text_and_top_k_one_is_greedy(lm_run, capsys):
    code, first, _ = _generate(capsys, lm_run, "--seed", "5", "--length", "12")
    assert code == 0 and first.startswith("this movie ") and len(first.split()) == 14
    assert _generate(capsys, lm_run, "--seed", "5", "--length", "12")[1] == first
    draws = {_generate(capsys, lm_run, "--seed", str(s), "--length", "12")[1] for s in range(6)}
    assert len(draws) > 1
    greedy = {
        _generate(capsys, lm_run, "--top-k", "1", "--seed", str(s), "--temperature", "2")[1]
        for s in range(3)
    }
    assert len(greedy) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--temperature", "0"], "temperature must be a finite number > 0"),
        (["--temperature", "nan"], "temperature must be a finite number > 0"),
        (["--top-k", "0"], "top_k must be a positive integer"),
        (["--length", "-3"], "length must be an integer >= 1"),
        (["--seed", "-1"], "seed must be an integer >= 0"),
    ],
)
def test_bad_arguments_are_one_line_errors(lm_run, capsys, extra, message):
    code, out, err = _generate(capsys, lm_run, *extra)
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and message in err


def test_a_run_without_a_language_model_is_a_clear_error(lm_run, tmp_path, capsys):
    code, _, err = _generate(capsys, tmp_path)
    assert code == 2 and "no pretrained language model here" in err
    assert "--preset pretrained" in err and err.strip().count("\n") == 0
    code, _, err = _generate(capsys, tmp_path / "absent")
    assert code == 2 and "no such run folder" in err


def test_ctrl_c_hint_names_a_saved_language_model_stage(tmp_path):
    import argparse

    from seqlab.cli.imdb import _train_interrupted

    out = tmp_path / "run"
    (out / "lm").mkdir(parents=True)
    args = argparse.Namespace(out=str(out))
    assert "no checkpoint was reached" in _train_interrupted(args)
    (out / "lm" / "trainer_state.pt").write_bytes(b"")
    hint = _train_interrupted(args)
    assert "language-model stage" in hint and "run the same command again" in hint


def test_valid_split_flag_reaches_the_run(tarball, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["imdb", "train", "--data", str(tarball), "--out", str(out), "--epochs", "1"]
    argv += ["--embedding-dim", "8", "--hidden-size", "8", "--quiet", "--vectors", "none"]
    assert main([*argv, "--valid-split", "random", "--cache-dir", str(tmp_path / "c")]) == 0
    recipe = json.loads((out / "text_pipeline.json").read_text())["recipe"]
    assert recipe["valid_split"] == "random"
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main([*argv[:5], str(tmp_path / "r2"), *argv[6:], "--valid-split", "title"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'title'" in capsys.readouterr().err


def test_lm_batches_sets_the_pretraining_budget(tarball, tmp_path, capsys):
    argv = ["imdb", "train", "--data", str(tarball), "--out", str(tmp_path / "r")]
    assert main([*argv, "--lm-batches", "5"]) == 2
    assert "--lm-batches sets the pretraining budget of --preset pretrained" in (
        capsys.readouterr().err
    )
    assert main([*argv, "--preset", "pretrained", "--lm-batches", "0"]) == 2
    assert "--lm-batches must be a positive integer" in capsys.readouterr().err

"""``seqlab imdb train --lr-layer-decay / --gradual-unfreeze``: into the recipe, checked."""

import pytest

from seqlab.cli import build_parser, main
from seqlab.cli.imdb import recipe_from_args


def _recipe(*flags):
    args = build_parser().parse_args(["imdb", "train", "--out", "r", *flags])
    return recipe_from_args(args)


def test_flags_set_the_recipes_training_settings():
    recipe = _recipe("--preset", "pretrained", "--lr-layer-decay", "2.6", "--gradual-unfreeze")
    assert recipe.train["lr_layer_decay"] == 2.6 and recipe.train["gradual_unfreeze"] is True
    assert _recipe("--no-gradual-unfreeze").train["gradual_unfreeze"] is False
    # Left out, the preset decides.
    recipe = _recipe()
    assert "lr_layer_decay" not in recipe.train and "gradual_unfreeze" not in recipe.train


@pytest.mark.parametrize("value", ["0", "-2.6", "nan", "inf"])
def test_a_bad_decay_is_one_line_before_any_data_is_read(value, tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["imdb", "train", "--out", str(out), "--lr-layer-decay", value]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("seqlab: error:") and "--lr-layer-decay" in err and "\n" not in err
    assert not out.exists()

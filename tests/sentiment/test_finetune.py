"""Fine-tuning a pretrained language model for sentiment with discriminative learning
rates and gradual unfreezing, through the recipe and its saved run folder."""

import json
import sys
from pathlib import Path

import pytest
import torch

from seqlab.sentiment import preset, read_pipeline_file, recipe_from_dict, train

sys.path.insert(0, str(Path(__file__).parent))

from tiny_imdb import write_imdb

TINY_LM = {
    "hidden_size": 16,
    "cutoffs": [10],
    "batch_size": 4,
    "bptt": 8,
    "epochs": 1,
    "batches_per_epoch": 4,
    "valid_batches": 2,
    "heldout_reviews": 5,
}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_one_unfrozen_epoch_trains_only_the_head(tmp_path):
    """With gradual unfreezing, epoch 1 leaves the LM's embedding and LSTM as pretrained."""
    from seqlab.sentiment.pretrain import find_lm
    from seqlab.train import load_run

    data = write_imdb(tmp_path / "data", per_class=20, unsup=20, tarball=True)
    recipe = preset("pretrained")
    recipe.model.update(embedding_dim=16, hidden_size=16)
    recipe.pretrain = dict(TINY_LM)
    recipe.train.update(epochs=1, lr_layer_decay=2.6, gradual_unfreeze=True)
    run = tmp_path / "run"
    result = train(data, run, recipe, cache_dir=tmp_path / "cache", progress=False)
    classifier = result["model"]
    lm, _ = load_run(find_lm(run))
    assert torch.equal(classifier.embedding.weight, lm.embedding.weight)
    for name, weight in lm.encoder.state_dict().items():
        assert torch.equal(classifier.encoder.state_dict()[name], weight), name

    saved = json.loads((run / "config.json").read_text())["train"]
    assert saved["lr_layer_decay"] == 2.6 and saved["gradual_unfreeze"] is True
    pipeline = read_pipeline_file(run / "text_pipeline.json")
    assert pipeline["recipe"].train["gradual_unfreeze"] is True


def test_recipe_train_settings_are_checked():
    values = {"train": {"epochs": 3, "lr_layer_decay": 2.6, "gradual_unfreeze": True}}
    assert recipe_from_dict(values, "R").train["lr_layer_decay"] == 2.6
    with pytest.raises(ValueError, match=r"R\.train: lr_layer_decay must be a finite number > 0"):
        recipe_from_dict({"train": {"lr_layer_decay": -1}}, "R")
    with pytest.raises(ValueError, match=r"R\.train: gradual_unfreeze must be True or False"):
        recipe_from_dict({"train": {"gradual_unfreeze": "yes"}}, "R")
    with pytest.raises(
        ValueError, match=r"R\.train: unknown TrainConfig field\(s\) \['lr_decay'\]"
    ):
        recipe_from_dict({"train": {"lr_decay": 2.6}}, "R")


def test_the_pretrained_preset_fine_tunes_as_ulmfit():
    from seqlab.train import TrainConfig

    recipe = preset("pretrained")
    config = TrainConfig(**recipe.train)
    assert config.gradual_unfreeze and config.lr_layer_decay == 2.6
    assert config.epochs == 4 and config.lr_schedule == "onecycle"

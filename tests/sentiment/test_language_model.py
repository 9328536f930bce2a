"""The language model: its softmax, its weights against torch.nn.LSTM's, and pretraining."""

import dataclasses
import json
import math
import sys
from pathlib import Path

import pytest
import torch

from seqlab.models import LanguageModel, LanguageModelConfig, build_model
from seqlab.sentiment import preset, recipe_from_dict, train
from seqlab.sentiment.pretrain import PRETRAIN_FILE, find_lm, generate

sys.path.insert(0, str(Path(__file__).parent))

from tiny_imdb import write_imdb

TINY_LM = {
    "hidden_size": 16,
    "cutoffs": [10],
    "batch_size": 4,
    "bptt": 8,
    "epochs": 2,
    "batches_per_epoch": 6,
    "valid_batches": 2,
    "heldout_reviews": 5,
}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny_recipe():
    recipe = preset("pretrained")
    recipe.model.update(embedding_dim=16, hidden_size=16)
    recipe.pretrain = dict(TINY_LM)
    return recipe


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    base = tmp_path_factory.mktemp("lm")
    data = write_imdb(base / "data", per_class=30, unsup=30, tarball=True)
    result = train(data, base / "run", tiny_recipe(), cache_dir=base / "cache", progress=False)
    return data, base, result


@pytest.mark.parametrize("cutoffs", [[], [5], [3, 9]])
def test_adaptive_softmax_is_a_distribution_and_matches_its_nll(cutoffs):
    torch.manual_seed(0)
    model = LanguageModel(
        LanguageModelConfig(vocab_size=14, embedding_dim=6, hidden_size=8, cutoffs=cutoffs)
    ).eval()
    inputs = torch.randint(0, 14, (3, 5))
    targets = torch.randint(0, 14, (3, 5))
    feats, _ = model(inputs)
    logp = model.log_probs(feats)
    assert torch.allclose(logp.exp().sum(-1), torch.ones(3, 5), atol=1e-5)
    nll = model(inputs, targets=targets)
    assert torch.allclose(nll, -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1), atol=1e-5)


def test_embedding_is_tied_and_the_encoders_share_weights():
    config = LanguageModelConfig(vocab_size=20, embedding_dim=4, hidden_size=6, cutoffs=[8])
    torch.manual_seed(0)
    ours = LanguageModel(config).eval()
    # The embedding is the only table of word vectors: the softmax has none of its own.
    tables = [n for n, p in ours.named_parameters() if p.dim() == 2 and p.shape[0] == 20]
    assert tables == ["embedding.weight"]
    theirs = build_model(
        {"name": "language_model", **dataclasses.asdict(config), "encoder": "torch_lstm"}
    )
    theirs.load_state_dict(ours.state_dict())
    theirs.eval()
    inputs = torch.randint(0, 20, (2, 7))
    targets = torch.randint(0, 20, (2, 7))
    assert torch.allclose(ours(inputs, targets=targets), theirs(inputs, targets=targets), atol=1e-5)


def test_config_checks():
    with pytest.raises(ValueError, match="cutoffs"):
        LanguageModelConfig(vocab_size=10, cutoffs=[5, 3])
    with pytest.raises(ValueError, match="cutoffs"):
        LanguageModelConfig(vocab_size=10, cutoffs=[10])
    with pytest.raises(ValueError, match="encoder"):
        LanguageModelConfig(encoder="gru")


def test_pretraining_writes_lm_and_the_classifier_starts_from_it(pretrained):
    _, base, result = pretrained
    lm = find_lm(base / "run")
    assert lm == base / "run" / "lm"
    record = json.loads((lm / PRETRAIN_FILE).read_text())
    assert record["figures"]["perplexity"] == pytest.approx(result["pretrain"]["perplexity"])
    assert math.isfinite(result["pretrain"]["perplexity"]) and not result["pretrain"]["reused"]
    history = json.loads((lm / "history.json").read_text())
    assert len(history) == TINY_LM["epochs"] and "valid_perplexity" in history[0]
    saved = json.loads((base / "run" / "text_pipeline.json").read_text())["recipe"]
    assert recipe_from_dict(saved, "R").pretrain == TINY_LM


def test_pretraining_is_reused_and_the_same_seed_gives_the_same_figures(pretrained, tmp_path):
    data, base, first = pretrained
    with pytest.warns(UserWarning, match="already holds a run"):
        again = train(data, base / "run", tiny_recipe(), cache_dir=base / "cache", progress=False)
    assert again["pretrain"]["reused"]
    assert [r["valid_loss"] for r in again["history"]] == [
        r["valid_loss"] for r in first["history"]
    ]
    fresh = train(data, tmp_path / "run", tiny_recipe(), cache_dir=base / "cache", progress=False)
    assert not fresh["pretrain"]["reused"]
    assert fresh["pretrain"]["perplexity"] == first["pretrain"]["perplexity"]
    assert [r["valid_loss"] for r in fresh["history"]] == [
        r["valid_loss"] for r in first["history"]
    ]


def test_generate_is_seeded_and_top_k_one_is_greedy(pretrained):
    _, base, _ = pretrained
    run = base / "run"
    one = generate(run, "the movie was", length=12, seed=3)
    assert one == generate(run, "the movie was", length=12, seed=3)
    assert one.startswith("the movie was ") and len(one.split()) == 15
    others = {generate(run, "the movie was", length=12, seed=s) for s in range(4, 8)}
    assert len(others | {one}) > 1
    greedy = {generate(run, "the film", length=8, top_k=1, seed=s) for s in range(3)}
    assert len(greedy) == 1
    assert "<unk>" not in one and "<pad>" not in one
    with pytest.raises(ValueError, match="temperature"):
        generate(run, "a", temperature=0)
    with pytest.raises(ValueError, match="top_k"):
        generate(run, "a", top_k=0)
    with pytest.raises(ValueError, match="no pretrained language model"):
        generate(base, "a")


def test_other_settings_pretrain_again(pretrained, tmp_path, caplog):
    data, base, _ = pretrained
    out = tmp_path / "run"
    train(data, out, tiny_recipe(), cache_dir=base / "cache", progress=False)
    changed = tiny_recipe()
    changed.pretrain["epochs"] = 1
    with pytest.warns(UserWarning, match="already holds a run"):
        again = train(data, out, changed, cache_dir=base / "cache", progress=False)
    assert not again["pretrain"]["reused"] and again["pretrain"]["epochs"] == 1
    assert "pretrained with other settings" in caplog.text
    record = json.loads((out / "lm" / PRETRAIN_FILE).read_text())
    assert record["key"]["settings"]["epochs"] == 1


def test_transfer_gives_the_classifier_the_language_models_states():
    from seqlab.models import SentimentClassifier, SentimentConfig
    from seqlab.sentiment.recipe import _transfer

    torch.manual_seed(0)
    lm = LanguageModel(
        LanguageModelConfig(vocab_size=30, embedding_dim=6, hidden_size=5, cutoffs=[10])
    )
    config = dict(
        vocab_size=30, embedding_dim=6, hidden_size=5, encoder="lstm", bidirectional=False
    )
    classifier = SentimentClassifier(SentimentConfig(**config))
    _transfer(lm, classifier)
    inputs = torch.randint(2, 30, (3, 7))
    lm.eval()
    expected, _ = lm.encoder(lm.embedding(inputs))
    got, _ = classifier.encoder(classifier.embedding(inputs))
    assert torch.allclose(got, expected, atol=1e-6)
    with pytest.raises(ValueError, match="unidirectional lstm"):
        _transfer(lm, SentimentClassifier(SentimentConfig(**{**config, "bidirectional": True})))

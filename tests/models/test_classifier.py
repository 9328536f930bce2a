import dataclasses

import numpy as np
import pytest
import torch

from seqlab.models import SentimentClassifier, SentimentConfig, build_model, model_config_dict
from seqlab.models.classifier import ENCODERS, POOLINGS, reverse_padded

VOCAB = 40


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: a second intra-op thread only adds synchronisation (16x the CPU
    time per step measured on a loaded 2-core machine), so these tests use one."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _model(**kw):
    torch.manual_seed(0)
    fields = {"vocab_size": VOCAB, "embedding_dim": 8, "hidden_size": 6, **kw}
    model = SentimentClassifier(SentimentConfig(**fields))
    return model.eval()


CASES = [
    (enc, pool, layers, bi)
    for enc in ENCODERS
    for pool in POOLINGS
    for layers, bi in ((1, False), (2, True))
]


@pytest.mark.parametrize(("encoder", "pooling", "layers", "bidirectional"), CASES)
def test_padding_does_not_change_the_output(encoder, pooling, layers, bidirectional):
    """Each review's logits with lengths= equal those of the review alone, unpadded."""
    model = _model(encoder=encoder, pooling=pooling, num_layers=layers, bidirectional=bidirectional)
    rng = np.random.default_rng(0)
    lengths = [7, 3, 1, 5]
    inputs = torch.zeros(4, 9, dtype=torch.long)
    for row, n in enumerate(lengths):
        inputs[row, :n] = torch.from_numpy(rng.integers(2, VOCAB, size=n))
    with torch.no_grad():
        batched = model(inputs, lengths=torch.tensor(lengths))
        alone = torch.cat([model(inputs[r : r + 1, :n]) for r, n in enumerate(lengths)])
    assert batched.shape == (4, 2)
    # float32 through at most 2 layers x 9 steps: rounding stays near 1e-7.
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=1e-5)


def test_rnncell_encoder_is_the_seed_loop_with_torch_cells():
    """Same weights in torch.nn.RNNCell, looped by hand, give the same logits."""
    model = _model(encoder="rnncell", pooling="last", bidirectional=False, head_hidden=5)
    cell = torch.nn.RNNCell(8, 6)
    cell.load_state_dict(model.encoder.cells[0].state_dict())
    inputs = torch.randint(2, VOCAB, (3, 6))
    with torch.no_grad():
        x = model.embedding(inputs)
        h = torch.zeros(3, 6)
        for t in range(6):
            h = cell(x[:, t], h)
        expected = model.head(h)
        torch.testing.assert_close(model(inputs), expected, atol=1e-6, rtol=1e-6)


def test_gru_encoder_matches_torch_gru_with_copied_weights():
    model = _model(encoder="gru", pooling="max+mean", bidirectional=True)
    reference = torch.nn.GRU(8, 6, batch_first=True, bidirectional=True)
    reference.load_state_dict(model.encoder.state_dict())
    inputs = torch.randint(2, VOCAB, (2, 5))
    with torch.no_grad():
        out, _ = reference(model.embedding(inputs))
        pooled = torch.cat([out.amax(1), out.mean(1)], dim=1)
        torch.testing.assert_close(model(inputs), model.head(pooled), atol=1e-6, rtol=1e-6)


def test_reverse_padded():
    x = torch.tensor([[1, 2, 3, 0], [4, 5, 0, 0]]).unsqueeze(-1)
    out = reverse_padded(x, torch.tensor([3, 2])).squeeze(-1)
    assert out.tolist() == [[3, 2, 1, 0], [5, 4, 0, 0]]


def test_registry_round_trip_and_embedding_load():
    config = SentimentConfig(vocab_size=VOCAB, embedding_dim=4, hidden_size=3, encoder="lstm")
    data = model_config_dict(config)
    assert data["name"] == "sentiment_classifier"
    model = build_model(data)
    assert isinstance(model, SentimentClassifier) and model.config == config
    vectors = np.ones((VOCAB, 4), dtype=np.float32)
    model.load_embedding(vectors)
    assert model.embedding.weight[0].abs().sum() == 0 and model.embedding.weight[1].sum() == 4
    with pytest.raises(ValueError, match="shape"):
        model.load_embedding(np.ones((VOCAB, 5)))


def test_config_errors():
    with pytest.raises(ValueError, match="encoder"):
        SentimentConfig(encoder="transformer")
    with pytest.raises(ValueError, match="pooling"):
        SentimentConfig(pooling="attention")
    with pytest.raises(ValueError, match="num_classes"):
        SentimentConfig(num_classes=1)
    with pytest.raises(ValueError, match="embedding_dropout"):
        SentimentConfig(embedding_dropout=1.5)
    with pytest.raises(ValueError, match="unknown field"):
        build_model({"name": "sentiment_classifier", "vocab_size": 5, "heads": 2})
    with pytest.raises(ValueError, match="inputs must be"):
        _model()(torch.zeros(3, dtype=torch.long))


def test_freeze_embedding_and_json_fields():
    model = _model(freeze_embedding=True)
    assert not model.embedding.weight.requires_grad
    assert all(
        isinstance(v, (int, float, str, bool)) for v in dataclasses.asdict(model.config).values()
    )


@pytest.mark.parametrize(
    "encoder",
    ["gru", *(pytest.param(e, marks=pytest.mark.slow) for e in ENCODERS if e != "gru")],
)
def test_learns_a_keyword_task(encoder):
    """Label = whether token 2 occurs: every encoder fits it within 80 full-batch steps."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    n, steps = 128, 8
    inputs = torch.from_numpy(rng.integers(3, VOCAB, size=(n, steps)))
    targets = torch.from_numpy(rng.integers(0, 2, size=n))
    where = torch.from_numpy(rng.integers(0, steps, size=n))
    inputs[targets == 1, where[targets == 1]] = 2
    model = _model(encoder=encoder, pooling="max", embedding_dropout=0.0, output_dropout=0.0)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-2)
    for _ in range(80):
        loss = torch.nn.functional.cross_entropy(model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(inputs).argmax(1) == targets).float().mean().item()
    assert accuracy > 0.95


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize(("layers", "bidirectional", "head_hidden"), [(1, False, 0), (3, True, 5)])
def test_parameter_groups_are_embedding_each_layer_then_head(
    encoder, layers, bidirectional, head_hidden
):
    model = _model(
        encoder=encoder, num_layers=layers, bidirectional=bidirectional, head_hidden=head_hidden
    )
    groups = model.parameter_groups()
    names = {id(p): n for n, p in model.named_parameters()}
    named = [[names[id(p)] for p in group] for group in groups]
    assert len(groups) == layers + 2
    # Every parameter exactly once.
    assert sorted(n for group in named for n in group) == sorted(names.values())
    assert named[0] == ["embedding.weight"]
    assert named[-1] == [n for n in names.values() if n.startswith("head.")]
    per_cell = 2 if bidirectional else 1
    for layer, group in enumerate(named[1:-1]):
        assert group and all(n.startswith("encoder.") for n in group)
        if encoder == "rnncell":
            cells = {int(n.split(".")[2]) for n in group}
            assert cells == set(range(layer * per_cell, (layer + 1) * per_cell))
        else:
            assert all(f"_l{layer}" in n for n in group), group
            assert sum(n.endswith("_reverse") for n in group) == (len(group) // 2) * (per_cell - 1)


def test_parameter_groups_keep_an_encoder_not_named_per_layer_together():
    model = _model(encoder="lstm", num_layers=2)
    model.encoder = torch.nn.LSTMCell(8, 6)  # weight_ih, weight_hh, ...: no layer suffix
    groups = model.parameter_groups()
    assert len(groups) == 3
    assert groups[1] == list(model.encoder.parameters())

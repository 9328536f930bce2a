"""The four recurrent forms learn tiny synthetic tasks within a few hundred Adam steps.

Each task has an exact rule, so the accuracy thresholds (well above chance) show that the
model learned the rule from the data, on sequences it has not seen.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from seqlab.models import build_model
from seqlab.models.forms import (
    AlignedTagger,
    AlignedTaggerConfig,
    CharSampler,
    CharSamplerConfig,
    ManyToOne,
    ManyToOneConfig,
    Seq2Seq,
    Seq2SeqConfig,
)


def _train(model, make_batch, loss_fn, steps: int, lr: float = 1e-2) -> None:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = loss_fn(model, *make_batch())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def test_many_to_one_learns_majority_sign_with_variable_lengths():
    """Label 1 when a sequence of +-1 values (odd length 1..9) has more +1 than -1."""
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)

    def batch(size=64):
        lengths = 2 * torch.randint(0, 5, (size,), generator=generator) + 1
        signs = torch.randint(0, 2, (size, 9), generator=generator) * 2 - 1
        mask = torch.arange(9).unsqueeze(0) < lengths.unsqueeze(1)
        signs = signs * mask
        labels = (signs.sum(1) > 0).long()
        return signs.unsqueeze(-1).float(), lengths, labels

    model = ManyToOne(ManyToOneConfig(input_size=1, hidden_size=16, cell="gru"))
    _train(model, batch, lambda m, x, n, y: F.cross_entropy(m(x, lengths=n), y), steps=200)
    x, lengths, labels = batch(512)
    with torch.no_grad():
        accuracy = (model(x, lengths=lengths).argmax(1) == labels).float().mean().item()
    assert accuracy >= 0.9


def test_aligned_tagger_learns_to_repeat_the_previous_token():
    """Tag at step t = token at step t-1 (tag 0 at step 0): needs one step of memory."""
    generator = torch.Generator().manual_seed(1)
    torch.manual_seed(1)

    def batch(size=64, length=10):
        tokens = torch.randint(0, 4, (size, length), generator=generator)
        tags = torch.cat((torch.zeros(size, 1, dtype=torch.long), tokens[:, :-1]), dim=1)
        return tokens, tags

    config = AlignedTaggerConfig(input_size=8, vocab_size=4, num_tags=4, hidden_size=16)
    model = AlignedTagger(config)

    def loss_fn(m, tokens, tags):
        return F.cross_entropy(m(tokens).reshape(-1, 4), tags.reshape(-1))

    _train(model, batch, loss_fn, steps=150)
    tokens, tags = batch(256)
    with torch.no_grad():
        accuracy = (model(tokens).argmax(-1) == tags).float().mean().item()
    assert accuracy >= 0.95


def test_seq2seq_learns_to_reverse():
    """Source: 4 symbols from {2..6}; target: the same symbols reversed (0 pad, 1 BOS)."""
    generator = torch.Generator().manual_seed(2)
    torch.manual_seed(2)

    def batch(size=64):
        source = torch.randint(2, 7, (size, 4), generator=generator)
        return source, source.flip(1)

    model = Seq2Seq(Seq2SeqConfig(source_vocab=7, target_vocab=7, hidden_size=48))

    def loss_fn(m, source, target):
        return F.cross_entropy(m(source, target).reshape(-1, 7), target.reshape(-1))

    _train(model, batch, loss_fn, steps=300)
    source, target = batch(256)
    accuracy = (model.generate(source, max_length=4) == target).float().mean().item()
    assert accuracy >= 0.9


def test_char_sampler_generates_the_text_it_learned_from_one_character():
    text = "hello world "
    alphabet = sorted(set(text))
    ids = torch.tensor([alphabet.index(ch) for ch in text * 20])
    generator = torch.Generator().manual_seed(3)
    torch.manual_seed(3)

    def batch(size=32, length=16):
        starts = torch.randint(0, len(ids) - length - 1, (size,), generator=generator)
        windows = torch.stack([ids[s : s + length + 1] for s in starts.tolist()])
        return windows[:, :-1], windows[:, 1:]

    model = CharSampler(CharSamplerConfig(vocab_size=len(alphabet), hidden_size=32))

    def loss_fn(m, inputs, targets):
        logits, _ = m(inputs)
        return F.cross_entropy(logits.reshape(-1, len(alphabet)), targets.reshape(-1))

    _train(model, batch, loss_fn, steps=200)
    generated = model.sample(alphabet.index("h"), length=10)
    assert "h" + "".join(alphabet[i] for i in generated) == "hello world"
    sampled = model.sample(alphabet.index("h"), 5, temperature=1.0, generator=generator)
    assert len(sampled) == 5 and all(0 <= i < len(alphabet) for i in sampled)


def test_forms_are_registered_and_rebuild_from_config():
    model = build_model({"name": "many_to_one", "input_size": 3, "hidden_size": 4})
    assert isinstance(model, ManyToOne)
    assert model.rnn.hidden_size == 4
    tagger = build_model({"name": "aligned_tagger", "cell": "rnn", "bidirectional": True})
    assert tagger(torch.randn(2, 5, 16)).shape == (2, 5, 2)
    with pytest.raises(ValueError, match="cell must be one of"):
        ManyToOne(ManyToOneConfig(cell="transformer"))
    with pytest.raises(ValueError, match="temperature"):
        CharSampler(CharSamplerConfig()).sample(0, 3, temperature=-1.0)

"""The four input/output forms of a recurrent network, each as a small model.

=========================  ==================  ==========================================
form                       model               example task (tests/models/test_forms.py)
=========================  ==================  ==========================================
many-to-one                ``ManyToOne``       classify a sequence (sentiment; here: are
                                               there more +1 than -1 values?)
many-to-many, aligned      ``AlignedTagger``   one label per step (tagging; here: repeat
                                               the previous token)
many-to-many, enc.-dec.    ``Seq2Seq``         sequence to sequence (translation; here:
                                               reverse the input)
one-to-many                ``CharSampler``     generate a sequence from one input (a
                                               character-level sampler)
=========================  ==================  ==========================================

Every model is built from :mod:`seqlab.nn` layers (``cell`` = "lstm", "gru" or "rnn"),
takes batch-first inputs, accepts ``lengths=`` where sequences vary in length, and has a
dataclass config registered with :func:`seqlab.models.register_model`, so
``build_model({"name": "many_to_one", ...})`` rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from seqlab.models.registry import ModelConfig, register_model
from seqlab.nn import GRU, LSTM, RNN

__all__ = [
    "AlignedTagger",
    "AlignedTaggerConfig",
    "CharSampler",
    "CharSamplerConfig",
    "ManyToOne",
    "ManyToOneConfig",
    "Seq2Seq",
    "Seq2SeqConfig",
]

_CELLS = {"lstm": LSTM, "gru": GRU, "rnn": RNN}


def _recurrent(
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int = 1,
    bidirectional: bool = False,
    dropout: float = 0.0,
) -> nn.Module:
    if cell not in _CELLS:
        raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}.")
    return _CELLS[cell](
        input_size,
        hidden_size,
        num_layers=num_layers,
        bidirectional=bidirectional,
        dropout=dropout if num_layers > 1 else 0.0,
        batch_first=True,
    )


def _hidden(state: Tensor | tuple[Tensor, Tensor]) -> Tensor:
    """h_n from an RNN/GRU state or an LSTM (h_n, c_n) pair."""
    return state[0] if isinstance(state, tuple) else state


def _input_layer(vocab_size: int | None, input_size: int) -> nn.Module:
    """Token ids through an embedding, or real-valued features as they are."""
    return nn.Identity() if vocab_size is None else nn.Embedding(vocab_size, input_size)


@dataclass
class ManyToOneConfig(ModelConfig):
    input_size: int = 1  # features per step (the embedding size when vocab_size is set)
    num_classes: int = 2
    hidden_size: int = 32
    vocab_size: int | None = None  # None: inputs are (N, L, input_size) real values
    cell: str = "gru"
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0


class ManyToOne(nn.Module):
    """Many-to-one: read the whole sequence, classify it from the final hidden state.

    logits = W [h_n(forward); h_n(backward)] + b, from the last layer's final state at
    each sequence's true last step (``lengths``), so padding never reaches the label.
    Input (N, L, input_size) floats or (N, L) token ids; output (N, num_classes).
    """

    def __init__(self, config: ManyToOneConfig) -> None:
        super().__init__()
        self.config = config
        self.inputs = _input_layer(config.vocab_size, config.input_size)
        self.rnn = _recurrent(
            config.cell,
            config.input_size,
            config.hidden_size,
            config.num_layers,
            config.bidirectional,
            config.dropout,
        )
        directions = 2 if config.bidirectional else 1
        self.head = nn.Linear(directions * config.hidden_size, config.num_classes)

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        _, state = self.rnn(self.inputs(inputs), lengths=lengths)
        directions = 2 if self.config.bidirectional else 1
        last_layer = _hidden(state)[-directions:]  # (D, N, H)
        return self.head(torch.cat(tuple(last_layer), dim=1))  # (N, num_classes)


@dataclass
class AlignedTaggerConfig(ModelConfig):
    input_size: int = 16  # features per step (the embedding size when vocab_size is set)
    num_tags: int = 2
    hidden_size: int = 32
    vocab_size: int | None = None  # None: inputs are (N, L, input_size) real values
    cell: str = "lstm"
    num_layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0


class AlignedTagger(nn.Module):
    """Many-to-many, aligned: one label per input step, ``logits_t = W h_t + b``.

    Input (N, L, input_size) floats or (N, L) token ids; output (N, L, num_tags). With
    ``lengths`` the outputs at padded steps come from a zero hidden state (mask them in
    the loss).
    """

    def __init__(self, config: AlignedTaggerConfig) -> None:
        super().__init__()
        self.config = config
        self.inputs = _input_layer(config.vocab_size, config.input_size)
        self.rnn = _recurrent(
            config.cell,
            config.input_size,
            config.hidden_size,
            config.num_layers,
            config.bidirectional,
            config.dropout,
        )
        directions = 2 if config.bidirectional else 1
        self.head = nn.Linear(directions * config.hidden_size, config.num_tags)

    def forward(self, inputs: Tensor, lengths: Tensor | None = None) -> Tensor:
        outputs, _ = self.rnn(self.inputs(inputs), lengths=lengths)  # (N, L, D*H)
        return self.head(outputs)


@dataclass
class Seq2SeqConfig(ModelConfig):
    source_vocab: int = 16
    target_vocab: int = 16
    embedding_dim: int = 16
    hidden_size: int = 64
    cell: str = "gru"
    num_layers: int = 1
    bos_index: int = 1  # the token the decoder starts from


class Seq2Seq(nn.Module):
    """Many-to-many, encoder-decoder (Sutskever et al. 2014; Cho et al. 2014).

    The encoder reads the source; its final state (at each source's true last step)
    is the decoder's initial state. Training uses teacher forcing: the decoder reads
    ``[BOS, y_1, ..., y_{T-1}]`` and predicts ``y_1..y_T`` (:meth:`forward`);
    :meth:`generate` decodes greedily, feeding each prediction back in.
    """

    def __init__(self, config: Seq2SeqConfig) -> None:
        super().__init__()
        self.config = config
        self.source_embedding = nn.Embedding(config.source_vocab, config.embedding_dim)
        self.target_embedding = nn.Embedding(config.target_vocab, config.embedding_dim)
        self.encoder = _recurrent(
            config.cell, config.embedding_dim, config.hidden_size, config.num_layers
        )
        self.decoder = _recurrent(
            config.cell, config.embedding_dim, config.hidden_size, config.num_layers
        )
        self.head = nn.Linear(config.hidden_size, config.target_vocab)

    def encode(self, source: Tensor, lengths: Tensor | None = None):
        _, state = self.encoder(self.source_embedding(source), lengths=lengths)
        return state

    def forward(
        self, source: Tensor, target: Tensor, source_lengths: Tensor | None = None
    ) -> Tensor:
        """Teacher-forced logits (N, T, target_vocab) for targets (N, T)."""
        state = self.encode(source, source_lengths)
        bos = target.new_full((target.shape[0], 1), self.config.bos_index)
        decoder_inputs = torch.cat((bos, target[:, :-1]), dim=1)
        outputs, _ = self.decoder(self.target_embedding(decoder_inputs), state)
        return self.head(outputs)

    @torch.no_grad()
    def generate(
        self, source: Tensor, max_length: int, source_lengths: Tensor | None = None
    ) -> Tensor:
        """Greedy decoding: (N, max_length) token ids."""
        state = self.encode(source, source_lengths)
        token = source.new_full((source.shape[0], 1), self.config.bos_index)
        generated = []
        for _ in range(max_length):
            output, state = self.decoder(self.target_embedding(token), state)
            token = self.head(output).argmax(dim=-1)  # (N, 1)
            generated.append(token)
        return torch.cat(generated, dim=1)


@dataclass
class CharSamplerConfig(ModelConfig):
    vocab_size: int = 32
    embedding_dim: int = 16
    hidden_size: int = 64
    cell: str = "lstm"
    num_layers: int = 1


class CharSampler(nn.Module):
    """One-to-many: a character-level language model that generates from one character.

    Trained to predict character t+1 from characters 1..t (:meth:`forward`, logits
    (N, L, vocab)); :meth:`sample` starts from one character and feeds each generated
    character back in, greedily (temperature 0) or by sampling softmax(logits / T).
    """

    def __init__(self, config: CharSamplerConfig) -> None:
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.rnn = _recurrent(
            config.cell, config.embedding_dim, config.hidden_size, config.num_layers
        )
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, inputs: Tensor, state=None):
        """Logits (N, L, vocab) for next characters, and the final state."""
        outputs, state = self.rnn(self.embedding(inputs), state)
        return self.head(outputs), state

    @torch.no_grad()
    def sample(
        self,
        start: int,
        length: int,
        temperature: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> list[int]:
        """``length`` character ids following ``start`` (which is not included)."""
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}.")
        if not 0 <= start < self.config.vocab_size:
            raise ValueError(
                f"start must be a character id in [0, {self.config.vocab_size}), got {start}."
            )
        device = self.head.weight.device
        token = torch.tensor([[start]], device=device)
        state = None
        generated = []
        for _ in range(length):
            logits, state = self(token, state)
            logits = logits[0, -1]
            if temperature == 0:
                next_id = int(logits.argmax())
            else:
                probabilities = torch.softmax(logits / temperature, dim=-1)
                next_id = int(torch.multinomial(probabilities, 1, generator=generator))
            generated.append(next_id)
            token = torch.tensor([[next_id]], device=device)
        return generated


register_model("many_to_one", ManyToOneConfig, ManyToOne)
register_model("aligned_tagger", AlignedTaggerConfig, AlignedTagger)
register_model("seq2seq", Seq2SeqConfig, Seq2Seq)
register_model("char_sampler", CharSamplerConfig, CharSampler)

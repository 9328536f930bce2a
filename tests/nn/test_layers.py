"""seqlab.nn.RNN/LSTM/GRU against torch.nn with the same weights: outputs, states, gradients.

One list of configurations (CONFIGS) drives the generic parity check; every configuration
runs with both implementations (fused and reference). Tolerances: float32 max abs
difference <= 1e-5 for outputs and final states and <= 1e-4 for gradients
(two float32 implementations summing the same products in a different order differ by a
few ulps per step, amplified at most by the recurrence length of 6 used here); float64
<= 1e-10 (the same sums in double precision).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import seqlab.nn as snn
from seqlab.nn import _inference, _layout, _training

INPUT_SIZE, HIDDEN_SIZE, STEPS, BATCH = 5, 7, 6, 4
# Unsorted, with a length-1 sequence and one full-length sequence.
LENGTHS = (3, 6, 1, 4)


@dataclass(frozen=True)
class Config:
    mode: str  # "tanh", "relu", "LSTM", "GRU"
    num_layers: int = 1
    bidirectional: bool = False
    batch_first: bool = False
    initial_state: bool = False
    lengths: str = "none"  # "none", "lengths" (lengths= argument), "packed" (PackedSequence)
    dtype: torch.dtype = torch.float32
    bias: bool = True

    def __str__(self) -> str:
        parts = [self.mode, f"L{self.num_layers}", "bi" if self.bidirectional else "uni"]
        parts += ["bf" if self.batch_first else "tf", "h0" if self.initial_state else "noh0"]
        parts += [self.lengths, str(self.dtype).replace("torch.", "")]
        return "-".join(parts + ([] if self.bias else ["nobias"]))


def _configs() -> list[Config]:
    configs = []
    for mode in ("tanh", "relu", "LSTM", "GRU"):
        configs += [
            Config(mode),
            Config(mode, num_layers=2, bidirectional=True, batch_first=True, initial_state=True),
            Config(mode, num_layers=3, bidirectional=True, initial_state=True, lengths="packed"),
            Config(mode, num_layers=2, batch_first=True, lengths="lengths"),
            Config(
                mode, bidirectional=True, batch_first=True, initial_state=True, lengths="lengths"
            ),
            Config(mode, num_layers=2, bidirectional=True, lengths="packed", dtype=torch.float64),
            Config(mode, num_layers=1, initial_state=True, lengths="lengths", bias=False),
        ]
    return configs


CONFIGS = _configs()


def make_pair(config: Config, implementation: str = "fused"):
    """A torch.nn layer and a seqlab layer holding the same weights."""
    kwargs = dict(
        num_layers=config.num_layers,
        bidirectional=config.bidirectional,
        batch_first=config.batch_first,
        bias=config.bias,
        dtype=config.dtype,
    )
    if config.mode in ("tanh", "relu"):
        reference = torch.nn.RNN(INPUT_SIZE, HIDDEN_SIZE, nonlinearity=config.mode, **kwargs)
        ours = snn.RNN(
            INPUT_SIZE,
            HIDDEN_SIZE,
            nonlinearity=config.mode,
            implementation=implementation,
            **kwargs,
        )
    else:
        reference = getattr(torch.nn, config.mode)(INPUT_SIZE, HIDDEN_SIZE, **kwargs)
        ours = getattr(snn, config.mode)(
            INPUT_SIZE, HIDDEN_SIZE, implementation=implementation, **kwargs
        )
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def make_inputs(config: Config, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    shape = (BATCH, STEPS, INPUT_SIZE) if config.batch_first else (STEPS, BATCH, INPUT_SIZE)
    x = torch.randn(shape, generator=generator, dtype=config.dtype)
    states = None
    if config.initial_state:
        state_shape = (config.num_layers * (2 if config.bidirectional else 1), BATCH, HIDDEN_SIZE)
        h0 = torch.randn(state_shape, generator=generator, dtype=config.dtype)
        c0 = torch.randn(state_shape, generator=generator, dtype=config.dtype)
        states = (h0, c0) if config.mode == "LSTM" else h0
    return x, states


def _leaves(x, states):
    x = x.clone().requires_grad_(True)
    if states is None:
        return x, None
    if isinstance(states, tuple):
        return x, tuple(s.clone().requires_grad_(True) for s in states)
    return x, states.clone().requires_grad_(True)


def _flat_states(states):
    if states is None:
        return []
    return list(states) if isinstance(states, tuple) else [states]


def run_torch(config: Config, layer, x, states):
    """torch.nn forward; returns padded output, final states (list)."""
    if config.lengths == "none":
        output, final = layer(x, states)
    else:
        packed = pack_padded_sequence(
            x, torch.tensor(LENGTHS), batch_first=config.batch_first, enforce_sorted=False
        )
        output, final = layer(packed, states)
        output, _ = pad_packed_sequence(output, batch_first=config.batch_first, total_length=STEPS)
    return output, _flat_states(final)


def run_ours(config: Config, layer, x, states):
    if config.lengths == "none":
        output, final = layer(x, states)
    elif config.lengths == "lengths":
        output, final = layer(x, states, lengths=torch.tensor(LENGTHS))
    else:
        packed = pack_padded_sequence(
            x, torch.tensor(LENGTHS), batch_first=config.batch_first, enforce_sorted=False
        )
        output, final = layer(packed, states)
        assert isinstance(output, torch.nn.utils.rnn.PackedSequence)
        assert torch.equal(output.batch_sizes, packed.batch_sizes)
        output, _ = pad_packed_sequence(output, batch_first=config.batch_first, total_length=STEPS)
    return output, _flat_states(final)


def forward_backward(config: Config, layer, runner, x, states):
    """Outputs, final states and the gradients of a random projection of all of them."""
    x, states = _leaves(x, states)
    output, finals = runner(config, layer, x, states)
    generator = torch.Generator().manual_seed(1)
    loss = (output * torch.randn(output.shape, generator=generator, dtype=output.dtype)).sum()
    for final in finals:
        loss = (
            loss + (final * torch.randn(final.shape, generator=generator, dtype=final.dtype)).sum()
        )
    inputs = [x, *_flat_states(states), *layer.parameters()]
    grads = torch.autograd.grad(loss, inputs)
    return output.detach(), [f.detach() for f in finals], grads


def tolerances(dtype: torch.dtype) -> tuple[float, float]:
    return (1e-5, 1e-4) if dtype == torch.float32 else (1e-10, 1e-10)


def max_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return (a - b).abs().max().item()


@pytest.mark.parametrize("implementation", ["fused", "reference"])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_matches_torch_nn(config: Config, implementation: str):
    torch.manual_seed(0)
    reference, ours = make_pair(config, implementation)
    x, states = make_inputs(config)
    expected_out, expected_finals, expected_grads = forward_backward(
        config, reference, run_torch, x, states
    )
    out, finals, grads = forward_backward(config, ours, run_ours, x, states)
    out_tol, grad_tol = tolerances(config.dtype)
    assert max_diff(out, expected_out) <= out_tol
    assert len(finals) == len(expected_finals)
    for final, expected in zip(finals, expected_finals, strict=True):
        assert max_diff(final, expected) <= out_tol
    names = ["input"] + ["initial state"] * len(_flat_states(states))
    names += [name for name, _ in ours.named_parameters()]
    for name, grad, expected in zip(names, grads, expected_grads, strict=True):
        assert max_diff(grad, expected) <= grad_tol, name
    if config.lengths != "none":
        time_axis = 1 if config.batch_first else 0
        for b, length in enumerate(LENGTHS):
            padded = out.select(1 - time_axis, b).narrow(0, length, STEPS - length)
            assert torch.count_nonzero(padded) == 0


@pytest.mark.parametrize("config", [c for c in CONFIGS if c.dtype == torch.float64], ids=str)
def test_fused_equals_reference(config: Config):
    """The fast path against the plain cell loop, forward and backward, in float64."""
    torch.manual_seed(0)
    _, fused = make_pair(config, "fused")
    _, plain = make_pair(config, "reference")
    plain.load_state_dict(fused.state_dict())
    x, states = make_inputs(config, seed=3)
    out_f, finals_f, grads_f = forward_backward(config, fused, run_ours, x, states)
    out_r, finals_r, grads_r = forward_backward(config, plain, run_ours, x, states)
    assert max_diff(out_f, out_r) <= 1e-12
    for a, b in zip(finals_f + list(grads_f), finals_r + list(grads_r), strict=True):
        assert max_diff(a, b) <= 1e-12


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_inference_path_matches_torch_nn(config: Config):
    """Without autograd the fused layers take the inference path (one direction at a time,
    chunked projections, tanh through sigmoid); same tolerances as with autograd."""
    torch.manual_seed(0)
    reference, ours = make_pair(config)
    x, states = make_inputs(config)
    with torch.no_grad():
        expected_out, expected_finals = run_torch(config, reference, x, states)
        out, finals = run_ours(config, ours, x, states)
    assert out.grad_fn is None
    out_tol, _ = tolerances(config.dtype)
    assert max_diff(out, expected_out) <= out_tol
    for final, expected in zip(finals, expected_finals, strict=True):
        assert max_diff(final, expected) <= out_tol
    if config.lengths != "none":
        time_axis = 1 if config.batch_first else 0
        for b, length in enumerate(LENGTHS):
            padded = out.select(1 - time_axis, b).narrow(0, length, STEPS - length)
            assert torch.count_nonzero(padded) == 0


@pytest.fixture
def small_chunks(monkeypatch):
    """Input projections made 37 rows at a time, so that short test sequences span many
    chunks and chunk ends fall inside steps' row ranges of every kind."""
    monkeypatch.setattr(_layout, "_CHUNK_ROWS", 37)
    _layout.chunks.cache_clear()
    yield
    _layout.chunks.cache_clear()


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
@pytest.mark.parametrize("lengths", [None, (30, 7, 30, 1, 16, 29)], ids=["full", "variable"])
@pytest.mark.parametrize("mode", ["tanh", "relu", "LSTM", "GRU"])
def test_inference_path_over_many_chunks(mode: str, lengths, dtype, small_chunks):
    """Sequences over many projection chunks (see small_chunks), some ending inside one,
    through the inference path equal torch.nn, both directions, with initial states; the
    module is frozen (requires_grad False), the other way into that path. float32 runs
    the numba kernels (variable lengths on the padded rows through a row map), float64
    the ATen ops; tolerances as in ``tolerances``."""
    config = Config(mode, num_layers=2, bidirectional=True, dtype=dtype)
    reference, ours = make_pair(config)
    ours.requires_grad_(False)
    steps, batch = 30, 6
    generator = torch.Generator().manual_seed(5)
    x = torch.randn(steps, batch, INPUT_SIZE, generator=generator, dtype=dtype)
    h0 = torch.randn(4, batch, HIDDEN_SIZE, generator=generator, dtype=dtype)
    states = (h0, torch.randn_like(h0)) if mode == "LSTM" else h0
    if lengths is None:
        with torch.no_grad():
            expected_out, expected_finals = reference(x, states)
        out, finals = ours(x, states)
    else:
        packed = pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
        with torch.no_grad():
            expected_out, expected_finals = reference(packed, states)
        expected_out, _ = pad_packed_sequence(expected_out, total_length=steps)
        out, finals = ours(x, states, lengths=lengths)
    assert out.grad_fn is None
    tolerance, _ = tolerances(dtype)
    assert max_diff(out, expected_out) <= tolerance
    for final, expected in zip(_flat_states(finals), _flat_states(expected_finals), strict=True):
        assert max_diff(final, expected) <= tolerance


def test_kernel_tanh_and_sigmoid_accuracy():
    """The float32 kernels' rational tanh (and sigmoid through it) against float64 tanh
    on a dense grid over [-20, 20] (past the clamp at 7.9): max abs error <= 3e-7, a few
    float32 ulp of 1 (measured 2.7e-7; ATen's float32 tanh: 3e-8)."""
    pytest.importorskip("numba")
    from seqlab.nn import _kernels

    grid = torch.linspace(-20, 20, 400_001, dtype=torch.float64)
    rows = grid.numel()
    expected = torch.tanh(grid)
    pre = grid.float().numpy().copy()
    state, out = np.empty(rows, np.float32), np.empty(rows, np.float32)
    _kernels.compiled("rnn_cell")(pre, 0, state, out, np.zeros(1, np.int64), 0, 1, rows, False)
    assert (torch.from_numpy(out).double() - expected).abs().max().item() <= 3e-7
    assert np.array_equal(out, state)
    # One LSTM step from c = 0 with f = 0: c = sigmoid(i) tanh(g), h = sigmoid(o) tanh(c).
    gates = np.zeros((4, rows), np.float32)
    gates[0], gates[1], gates[2], gates[3] = pre, 50.0, -50.0, 50.0
    cells = np.zeros(rows, np.float32)
    _kernels.compiled("lstm_cell")(
        gates.reshape(-1), 0, cells, state, out, np.zeros(1, np.int64), 0, 1, rows
    )
    # Two approximations multiplied (each factor <= 1): errors add, <= 2 x 3e-7.
    expected_h = torch.sigmoid(grid) * torch.tanh(torch.tensor(1.0, dtype=torch.float64))
    assert (torch.from_numpy(out).double() - expected_h).abs().max().item() <= 6e-7


@pytest.mark.parametrize(
    "config",
    [c for c in CONFIGS if c.dtype == torch.float32 and c.lengths != "none"],
    ids=str,
)
def test_float32_without_numba_matches_torch_nn(monkeypatch, config: Config):
    """Without numba, float32 runs on ATen ops (the float64 path): training and
    inference still equal torch.nn within the float32 tolerances."""
    monkeypatch.setattr(_layout, "numba_available", lambda: False)
    assert not _layout.uses_kernels(torch.zeros(1))
    torch.manual_seed(0)
    reference, ours = make_pair(config)
    x, states = make_inputs(config)
    expected_out, expected_finals, expected_grads = forward_backward(
        config, reference, run_torch, x, states
    )
    out, finals, grads = forward_backward(config, ours, run_ours, x, states)
    with torch.no_grad():
        inferred, _ = run_ours(config, ours, x, states)
    out_tol, grad_tol = tolerances(config.dtype)
    assert max_diff(out, expected_out) <= out_tol
    assert max_diff(inferred, expected_out) <= out_tol
    for got, want in zip(finals, expected_finals, strict=True):
        assert max_diff(got, want) <= out_tol
    for got, want in zip(grads, expected_grads, strict=True):
        assert max_diff(got, want) <= grad_tol


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_inference_propagates_nan_like_torch(mode: str):
    """A NaN input makes the same outputs NaN as in torch.nn (the kernels' clamps let NaN
    through; fast-math flags exclude the no-NaN assumption)."""
    torch.manual_seed(0)
    reference = getattr(torch.nn, mode)(INPUT_SIZE, HIDDEN_SIZE, bidirectional=True)
    ours = getattr(snn, mode)(INPUT_SIZE, HIDDEN_SIZE, bidirectional=True)
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(STEPS, BATCH, INPUT_SIZE)
    x[2, 1, 0] = float("nan")
    with torch.no_grad():
        expected, _ = reference(x)
        got, _ = ours(x)
    assert torch.isnan(expected).any()
    assert torch.equal(torch.isnan(got), torch.isnan(expected))
    finite = ~torch.isnan(expected)
    assert max_diff(got[finite], expected[finite]) <= 1e-5


def test_row_map_needs_the_compiled_path():
    x = torch.randn(6, INPUT_SIZE, dtype=torch.float64)
    weight = torch.randn(3 * HIDDEN_SIZE, INPUT_SIZE, dtype=torch.float64)
    weight_hh = torch.randn(3 * HIDDEN_SIZE, HIDDEN_SIZE, dtype=torch.float64)
    h0 = torch.zeros(2, HIDDEN_SIZE, dtype=torch.float64)
    out = torch.empty(6, HIDDEN_SIZE, dtype=torch.float64)
    rows = torch.arange(6)
    with pytest.raises(ValueError, match="compiled inference path"):
        _inference.gru_inference(
            x,
            h0,
            weight_ih=weight,
            weight_hh=weight_hh,
            bias_ih=None,
            bias_hh=None,
            batch_sizes=(2, 2, 2),
            out=out,
            rows=rows,
        )


@pytest.mark.parametrize("lengths", ["none", "lengths"])
@pytest.mark.parametrize("mode", ["tanh", "relu", "LSTM", "GRU"])
def test_autograd_path_over_many_chunks(mode: str, lengths: str, small_chunks):
    """A batch over many projection chunks (see small_chunks), run twice (the second time
    on the backward scratch memory the first left), against torch.nn in float64:
    outputs, final states and every gradient."""
    config = Config(
        mode, bidirectional=True, initial_state=True, lengths=lengths, dtype=torch.float64
    )
    reference, ours = make_pair(config)
    generator = torch.Generator().manual_seed(7)
    steps, batch, long_lengths = 30, 6, torch.tensor([30, 5, 29, 1, 10, 30])
    x = torch.randn(steps, batch, INPUT_SIZE, generator=generator, dtype=torch.float64)
    h0 = torch.randn(2, batch, HIDDEN_SIZE, generator=generator, dtype=torch.float64)
    states = (h0, torch.randn_like(h0)) if mode == "LSTM" else h0

    def run(layer, variable):
        inputs, initial = _leaves(x, states)
        if lengths == "none":
            output, finals = layer(inputs, initial)
        elif variable:
            output, finals = layer(inputs, initial, lengths=long_lengths)
        else:
            packed = pack_padded_sequence(inputs, long_lengths, enforce_sorted=False)
            output, finals = layer(packed, initial)
            output, _ = pad_packed_sequence(output, total_length=steps)
        finals = _flat_states(finals)
        weights = torch.Generator().manual_seed(1)
        loss = sum(
            (t * torch.randn(t.shape, generator=weights, dtype=t.dtype)).sum()
            for t in [output, *finals]
        )
        grads = torch.autograd.grad(loss, [inputs, *_flat_states(initial), *layer.parameters()])
        return [output, *finals, *grads]

    expected = run(reference, variable=False)
    for _ in range(2):  # the second call runs on the scratch memory the first one left
        for got, want in zip(run(ours, variable=True), expected, strict=True):
            assert max_diff(got, want) <= 1e-10


@pytest.mark.parametrize("mode", ["tanh", "LSTM", "GRU"])
@pytest.mark.parametrize("implementation", ["fused", "reference"])
def test_variable_lengths_equal_separate_runs(mode: str, implementation: str):
    """Independent of torch.nn: each sequence run alone, unpadded, gives the same result.

    This is what "the reverse direction starts at each sequence's true last step" and
    "padded steps never change the final state" mean; the padding is filled with large
    values so that any leak would show.
    """
    config = Config(mode, num_layers=2, bidirectional=True, batch_first=True, dtype=torch.float64)
    _, layer = make_pair(config, implementation)
    x, _ = make_inputs(config)
    for b, length in enumerate(LENGTHS):
        x[b, length:] = 1e3
    output, finals = layer(x, lengths=list(LENGTHS))
    finals = _flat_states(finals)
    for b, length in enumerate(LENGTHS):
        alone_out, alone_finals = layer(x[b : b + 1, :length])
        assert max_diff(output[b : b + 1, :length], alone_out) <= 1e-12
        for final, alone in zip(finals, _flat_states(alone_finals), strict=True):
            assert max_diff(final[:, b : b + 1], alone) <= 1e-12


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_state_dict_and_initialisation_match_torch(mode: str):
    kwargs = dict(num_layers=2, bidirectional=True)
    torch.manual_seed(123)
    reference = getattr(torch.nn, mode)(INPUT_SIZE, HIDDEN_SIZE, **kwargs)
    torch.manual_seed(123)
    ours = getattr(snn, mode)(INPUT_SIZE, HIDDEN_SIZE, **kwargs)
    expected = reference.state_dict()
    got = ours.state_dict()
    assert list(got) == list(expected)
    for name in expected:
        # Same names, shapes and the same draws from the same seed in the same order.
        assert torch.equal(got[name], expected[name]), name
    # Both ways: torch.nn loads ours.
    fresh = getattr(torch.nn, mode)(INPUT_SIZE, HIDDEN_SIZE, **kwargs)
    fresh.load_state_dict(ours.state_dict())
    assert "bias_hh_l1_reverse" in got


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_unbatched_input_matches_torch(mode: str):
    torch.manual_seed(0)
    reference = getattr(torch.nn, mode)(INPUT_SIZE, HIDDEN_SIZE, num_layers=2)
    ours = getattr(snn, mode)(INPUT_SIZE, HIDDEN_SIZE, num_layers=2)
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(STEPS, INPUT_SIZE)
    expected_out, expected_final = reference(x)
    out, final = ours(x)
    assert out.shape == expected_out.shape
    assert max_diff(out, expected_out) <= 1e-5
    for a, b in zip(_flat_states(final), _flat_states(expected_final), strict=True):
        assert max_diff(a, b) <= 1e-5


@pytest.mark.parametrize("implementation", ["fused", "reference"])
def test_dropout_only_between_layers_and_only_in_training(implementation: str):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(INPUT_SIZE, HIDDEN_SIZE, num_layers=2, dropout=0.5)
    ours = snn.LSTM(
        INPUT_SIZE, HIDDEN_SIZE, num_layers=2, dropout=0.5, implementation=implementation
    )
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(STEPS, BATCH, INPUT_SIZE)
    reference.eval()
    ours.eval()
    expected, _ = reference(x)
    first, _ = ours(x)
    second, _ = ours(x)
    assert torch.equal(first, second)
    assert max_diff(first, expected) <= 1e-5
    ours.train()
    torch.manual_seed(1)
    train_a, (h_a, _) = ours(x)
    torch.manual_seed(2)
    train_b, (h_b, _) = ours(x)
    assert max_diff(train_a, train_b) > 1e-3
    # The first layer sees no dropout: its final state is the same in both runs.
    assert torch.equal(h_a[0], h_b[0])
    assert not torch.equal(h_a[1], h_b[1])


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("implementation", ["fused", "reference"])
def test_gradients_accumulate_over_backward_passes(mode: str, implementation: str):
    """Two backward passes give twice one pass's .grad in every parameter (no shared buffers)."""
    torch.manual_seed(0)
    layer = getattr(snn, mode)(
        INPUT_SIZE, HIDDEN_SIZE, bidirectional=True, implementation=implementation
    )
    x = torch.randn(STEPS, BATCH, INPUT_SIZE)
    layer(x)[0].sum().backward()
    once = [p.grad.clone() for p in layer.parameters()]
    layer(x)[0].sum().backward()
    for grad, single in zip((p.grad for p in layer.parameters()), once, strict=True):
        assert max_diff(grad, 2 * single) <= 1e-5


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_memory_reuse_never_touches_a_live_graph(mode: str):
    """Buffers saved for backward are reused only once nothing holds them: a graph kept
    with retain_graph=True gives the same gradients again after other forward and
    backward passes of the same shapes have run in between."""
    torch.manual_seed(0)
    layer = getattr(snn, mode)(INPUT_SIZE, HIDDEN_SIZE, bidirectional=True)
    x = torch.randn(STEPS, BATCH, INPUT_SIZE)
    kept = layer(x)[0].square().sum()
    first = torch.autograd.grad(kept, list(layer.parameters()), retain_graph=True)
    for _ in range(3):
        layer(torch.randn(STEPS, BATCH, INPUT_SIZE))[0].sum().backward()
    again = torch.autograd.grad(kept, list(layer.parameters()))
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a, b)
    _training.release_scratch()


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers=1"):
        snn.GRU(INPUT_SIZE, HIDDEN_SIZE, dropout=0.2)


def test_lengths_as_tensor_list_or_array_agree():
    torch.manual_seed(0)
    layer = snn.LSTM(INPUT_SIZE, HIDDEN_SIZE)
    x = torch.randn(STEPS, BATCH, INPUT_SIZE)
    out_tensor, _ = layer(x, lengths=torch.tensor(LENGTHS, dtype=torch.int32))
    out_list, _ = layer(x, lengths=list(LENGTHS))
    out_array, _ = layer(x, lengths=np.array(LENGTHS))
    assert torch.equal(out_tensor, out_list)
    assert torch.equal(out_tensor, out_array)


def test_all_full_lengths_equal_no_lengths():
    torch.manual_seed(0)
    layer = snn.GRU(INPUT_SIZE, HIDDEN_SIZE, bidirectional=True)
    x = torch.randn(STEPS, BATCH, INPUT_SIZE)
    out_a, h_a = layer(x)
    out_b, h_b = layer(x, lengths=torch.full((BATCH,), STEPS))
    assert torch.equal(out_a, out_b)
    assert torch.equal(h_a, h_b)


@pytest.mark.parametrize("implementation", ["fused", "reference"])
def test_math_is_ours(monkeypatch, implementation: str):
    """With torch's recurrent kernels and modules made to raise, everything still runs."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a torch recurrent kernel was called")

    kernels = ["lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell"]
    kernels += ["rnn_tanh_cell", "rnn_relu_cell"]
    for name in kernels:
        monkeypatch.setattr(torch._VF, name, forbidden, raising=False)
    for cls in (torch.nn.RNN, torch.nn.LSTM, torch.nn.GRU, torch.nn.RNNCell):
        monkeypatch.setattr(cls, "forward", forbidden)
    monkeypatch.setattr(torch.nn.LSTMCell, "forward", forbidden)
    monkeypatch.setattr(torch.nn.GRUCell, "forward", forbidden)
    x = torch.randn(STEPS, BATCH, INPUT_SIZE, requires_grad=True)
    for mode in ("RNN", "LSTM", "GRU"):
        layer = getattr(snn, mode)(
            INPUT_SIZE, HIDDEN_SIZE, num_layers=2, bidirectional=True, implementation=implementation
        )
        output, _ = layer(x, lengths=list(LENGTHS))
        output.sum().backward()
        with torch.no_grad():
            layer(x, lengths=list(LENGTHS))
            layer(x)
        cell = getattr(snn, f"{mode}Cell")(INPUT_SIZE, HIDDEN_SIZE)
        result = cell(x[0])
        (result[0] if isinstance(result, tuple) else result).sum().backward()
    assert x.grad is not None
    with pytest.raises(AssertionError, match="recurrent kernel"):
        torch.nn.LSTM(INPUT_SIZE, HIDDEN_SIZE)(x)  # the trap is armed


# ----- bad input ------------------------------------------------------------------------

X = torch.randn(STEPS, BATCH, INPUT_SIZE)
H0_WRONG = torch.zeros(1, BATCH, HIDDEN_SIZE)
# (id, positional args, keyword args, error, message pattern)
BAD_INPUTS = [
    (
        "rank",
        (torch.randn(2, 3, 4, INPUT_SIZE),),
        {},
        ValueError,
        r"3-D .*got shape \(2, 3, 4, 5\)",
    ),
    ("features", (torch.randn(STEPS, BATCH, 3),), {}, ValueError, r"input_size=5.*\(6, 4, 3\)"),
    ("integer input", (X.long(),), {}, TypeError, "floating-point"),
    ("dtype mismatch", (X.double(),), {}, TypeError, "dtype"),
    ("not a tensor", ([[1.0] * INPUT_SIZE],), {}, TypeError, "input must be a torch.Tensor"),
    (
        "h0 shape",
        (X, H0_WRONG),
        {},
        ValueError,
        r"hx must have shape .*\(2, 4, 7\), got \(1, 4, 7\)",
    ),
    (
        "lengths too long",
        (X,),
        {"lengths": [1, 2, 3, 7]},
        ValueError,
        r"lengths\[3\] = 7 is longer",
    ),
    ("zero length", (X,), {"lengths": [1, 0, 3, 2]}, ValueError, r"lengths\[1\] = 0"),
    ("lengths count", (X,), {"lengths": [1, 2]}, ValueError, r"shape \(4,\).*got \(2,\)"),
    ("float lengths", (X,), {"lengths": torch.ones(BATCH)}, TypeError, "integers"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda case: case[0])
def test_bad_input_gets_a_clear_error(case):
    _, args, kwargs, error, pattern = case
    layer = snn.GRU(INPUT_SIZE, HIDDEN_SIZE, bidirectional=True)
    with pytest.raises(error, match=pattern):
        layer(*args, **kwargs)


def test_lstm_state_errors_name_the_part():
    layer = snn.LSTM(INPUT_SIZE, HIDDEN_SIZE)
    x = torch.randn(STEPS, BATCH, INPUT_SIZE)
    good = torch.zeros(1, BATCH, HIDDEN_SIZE)
    with pytest.raises(ValueError, match=r"hx\[1\] \(c_0\).*got \(1, 3, 7\)"):
        layer(x, (good, torch.zeros(1, 3, HIDDEN_SIZE)))
    with pytest.raises(TypeError, match="tuple"):
        layer(x, good)


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="hidden_size must be positive"):
        snn.LSTM(INPUT_SIZE, 0)
    with pytest.raises(ValueError, match="dropout must be in"):
        snn.LSTM(INPUT_SIZE, 3, num_layers=2, dropout=1.5)
    with pytest.raises(ValueError, match="nonlinearity"):
        snn.RNN(INPUT_SIZE, 3, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="proj_size"):
        snn.LSTM(INPUT_SIZE, 3, proj_size=2)
    with pytest.raises(ValueError, match="implementation"):
        snn.GRU(INPUT_SIZE, 3, implementation="cuda")

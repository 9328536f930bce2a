"""DDP: two processes on loopback via torchrun (gloo), against one process.

The two ranks must end with bit-identical weights (DDP keeps replicas in step), only
rank 0 may write its run folder, and the result must match one process trained on the
same global batches (each pair of 16-row batches concatenated into one of 32). The
gradients differ only by float32 summation order (the mean over 32 rows versus the mean
of two 16-row means, averaged by all_reduce), about 1e-7 relative per step; over 39 SGD
steps that stays far below the 1e-5 tolerance used, while a wrong sharding (a rank
seeing the other's batches, or unaveraged gradients) moves weights by >1e-2.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from train_problems import MLP, MLPConfig, PairShuffled, regression_batches

from seqlab.train import DistributedBatches, RegressionTask, Trainer, seed_everything
from seqlab.train.checkpoint import load_weights

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _torchrun(out: Path, mode: str) -> None:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "GLOO_SOCKET_IFNAME": os.environ.get("GLOO_SOCKET_IFNAME", "lo"),
        "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]),
        "CUDA_VISIBLE_DEVICES": "",  # gloo on CPU, also on a machine with GPUs
    }
    command = [
        sys.executable, "-m", "torch.distributed.run",
        "--nnodes", "1", "--nproc_per_node", "2",
        "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
        str(HERE / "ddp_worker.py"), str(out), mode,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


def _single_process_reference() -> tuple[dict, list[dict], Trainer]:
    """One process on the concatenated pairs, from rank 0's initial weights."""
    from ddp_worker import CONFIG

    train, valid = regression_batches()
    seed_everything(123)  # rank 0's initial weights, which DDP broadcast
    model = MLP(MLPConfig())
    trainer = Trainer(model, task=RegressionTask(), config=CONFIG)
    history = trainer.fit(PairShuffled(train, merge=True), valid)
    return model.state_dict(), history, trainer


def test_two_ranks_on_loopback_match_one_process(tmp_path):
    _torchrun(tmp_path, "straight")

    rank0 = load_weights(tmp_path / "weights0.safetensors")
    rank1 = load_weights(tmp_path / "weights1.safetensors")
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    assert (tmp_path / "run0" / "model.safetensors").exists()
    assert not (tmp_path / "run1").exists()

    figures = [json.loads((tmp_path / f"figures{r}.json").read_text()) for r in (0, 1)]
    histories = [[{k: v for k, v in r.items() if k != "seconds"} for r in f["history"]]
                 for f in figures]  # fmt: skip
    assert histories[0] == histories[1]  # figures all-reduced: the same on both ranks
    assert figures[0]["eval"]["count"] == 96  # each valid row counted once over both ranks

    single, history, trainer = _single_process_reference()
    for key in rank0:
        torch.testing.assert_close(rank0[key], single[key], rtol=1e-5, atol=1e-5)
    ddp_history = figures[0]["history"]
    for ours, theirs in zip(ddp_history, history, strict=True):
        assert ours["train_loss"] == pytest.approx(theirs["train_loss"], rel=1e-5)
        assert ours["valid_rmse"] == pytest.approx(theirs["valid_rmse"], rel=1e-5)
    evaluated = trainer.evaluate(regression_batches()[1])
    assert figures[0]["eval"]["rmse"] == pytest.approx(evaluated["rmse"], rel=1e-5)


def test_distributed_batches_shard_evenly_and_follow_set_epoch():
    source = PairShuffled([{"inputs": torch.tensor([i]), "targets": torch.tensor([i])}
                           for i in range(7)])  # fmt: skip
    shards = [DistributedBatches(source, rank=r, world_size=2) for r in (0, 1)]
    assert [len(s) for s in shards] == [3, 3]
    seen = [[int(b["inputs"]) for b in s] for s in shards]
    # Every pair (2p, 2p+1) is split across the ranks; batch 6 (odd one out) is dropped.
    assert sorted(zip(*seen, strict=True)) == [(0, 1), (2, 3), (4, 5)]
    shards[0].set_epoch(1)
    assert source.epoch == 1
    evaluation = [DistributedBatches(list(range(7)), rank=r, world_size=2, drop_last=False)
                  for r in (0, 1)]  # fmt: skip
    assert [list(s) for s in evaluation] == [[0, 2, 4, 6], [1, 3, 5]]
    assert [len(s) for s in evaluation] == [4, 3]
    with pytest.raises(ValueError, match="rank < world_size"):
        DistributedBatches([], rank=2, world_size=2)


def test_dataloaders_with_a_distributed_sampler_count_as_sharded():
    from torch.utils.data import DataLoader, TensorDataset
    from torch.utils.data.distributed import DistributedSampler

    from seqlab.train.distributed import is_sharded, set_epoch

    dataset = TensorDataset(torch.arange(8))
    sampler = DistributedSampler(dataset, num_replicas=2, rank=0, shuffle=True, seed=0)
    loader = DataLoader(dataset, batch_size=2, sampler=sampler)
    assert is_sharded(loader)
    assert not is_sharded(DataLoader(dataset, batch_size=2, shuffle=True))
    assert is_sharded(DistributedBatches([], rank=0, world_size=1))
    set_epoch(loader, 3)
    assert sampler.epoch == 3


@pytest.mark.slow
def test_ctrl_c_on_one_rank_stops_all_and_resumes_under_torchrun(tmp_path):
    """Rank 0 alone is interrupted: both ranks stop at the same batch, rank 0 saves,
    a second torchrun resumes and ends where an uninterrupted run does."""
    _torchrun(tmp_path, "interrupt")
    assert (tmp_path / "interrupted0").exists() and (tmp_path / "interrupted1").exists()
    state = torch.load(tmp_path / "run" / "trainer_state.pt", weights_only=True)
    assert state["epoch"] == 1 and state["progress"]["batches_done"] == 3
    _torchrun(tmp_path, "resume")
    rank0 = load_weights(tmp_path / "weights0.safetensors")
    rank1 = load_weights(tmp_path / "weights1.safetensors")
    single, _, _ = _single_process_reference()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
        torch.testing.assert_close(rank0[key], single[key], rtol=1e-5, atol=1e-5)

"""Worker for test_distributed.py, started by ``torchrun --nproc_per_node 2``.

Each rank trains the same MLP regressor through the Trainer, unchanged, on the same
16-row batches (the Trainer shards them: rank r takes batches r, r + 2, ...). It then
writes its final weights and its evaluation figures to OUT_DIR for the test to compare.
Usage: ddp_worker.py OUT_DIR [straight|interrupt|resume]

``interrupt`` sends SIGINT to rank 0 alone in epoch 2 and expects both ranks to stop
at the same batch with the state saved in OUT_DIR/run; ``resume`` continues that run.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import torch
from train_problems import MLP, MLPConfig, PairShuffled, regression_batches

from seqlab.train import RegressionTask, TrainConfig, Trainer, seed_everything
from seqlab.train.checkpoint import save_weights

CONFIG = TrainConfig(
    epochs=3, lr=0.05, optimizer="sgd", momentum=0.9, grad_clip=1.0, seed=0, progress=False
)


class _CtrlCOnRank0(PairShuffled):
    """Rank 0 alone gets a SIGINT while fetching its 3rd batch of epoch 2."""

    def __iter__(self):
        for i, batch in enumerate(super().__iter__()):
            if self.epoch == 1 and i == 4 and os.environ["RANK"] == "0":
                os.kill(os.getpid(), signal.SIGINT)
            yield batch


def main() -> None:
    out = Path(sys.argv[1])
    mode = sys.argv[2] if len(sys.argv) > 2 else "straight"
    rank = int(os.environ["RANK"])
    torch.set_num_threads(1)
    train, valid = regression_batches()
    seed_everything(123 + rank)  # different initial weights: DDP must broadcast rank 0's
    model = MLP(MLPConfig())
    if mode == "straight":
        run_dir = out / f"run{rank}"  # only run0 may appear
    else:
        run_dir = out / "run"
    trainer = Trainer(model, task=RegressionTask(), config=CONFIG, run_dir=run_dir)
    if mode == "interrupt":
        try:
            trainer.fit(_CtrlCOnRank0(train), valid)
        except KeyboardInterrupt:
            (out / f"interrupted{rank}").write_text("yes")
        return
    history = trainer.fit(PairShuffled(train), valid, resume=mode == "resume")
    figures = trainer.evaluate(valid)
    save_weights(out / f"weights{rank}.safetensors", model.state_dict())
    (out / f"figures{rank}.json").write_text(json.dumps({"history": history, "eval": figures}))


if __name__ == "__main__":
    main()

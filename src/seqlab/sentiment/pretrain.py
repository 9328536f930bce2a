"""Language-model pretraining on IMDB's own reviews, and text generation from the result.

:func:`pretrain_lm` trains a :class:`~seqlab.models.LanguageModel` (seqlab.nn LSTM, tied
embeddings, adaptive softmax) with the one :class:`~seqlab.train.Trainer` on one stream
of the training part's reviews (as the classifier sees them: cut at the recipe's
``max_length``, limited by ``limit``) and the unlabelled reviews (never the validation
part, never the test set), in a seeded order, each review followed by the boundary id 0
(``<pad>``, which no review contains). A slice of the unlabelled reviews, drawn by
``split_seed``, is held out and the perplexity on it is reported each epoch. The LM's run folder is
``RUN/lm``: written once, reused by a later run with the same settings and vocabulary
(``pretrain.json`` records them), continued when a run was stopped (Ctrl-C) before the
end.

:func:`generate` samples a continuation of a prompt (the one-to-many form: one prompt
in, a sequence out) with a temperature and top-k.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "LM_DIR",
    "PRETRAIN_DEFAULTS",
    "PRETRAIN_FILE",
    "check_pretrain_settings",
    "find_lm",
    "generate",
    "language_model_task",
    "pretrain_lm",
]

#: The LM stage's run folder inside a run.
LM_DIR = "lm"
#: What the LM stage records when it ends: settings, vocabulary digest, figures.
PRETRAIN_FILE = "pretrain.json"
#: The LM stage's settings (``ImdbRecipe.pretrain`` overrides any of them).
PRETRAIN_DEFAULTS: dict[str, Any] = {
    "hidden_size": 256,
    "num_layers": 1,
    "cutoffs": [1000, 5000],
    "input_dropout": 0.1,
    "rnn_dropout": 0.1,
    "output_dropout": 0.1,
    "encoder": "lstm",
    "batch_size": 32,
    "bptt": 64,
    "epochs": 4,
    "batches_per_epoch": 200,
    "valid_batches": 20,
    "heldout_reviews": 1000,
    "lr": 3e-3,
    "lr_schedule": "cosine",
    "grad_clip": 0.5,
}
_INT_KEYS = (
    "hidden_size",
    "num_layers",
    "batch_size",
    "bptt",
    "epochs",
    "batches_per_epoch",
    "valid_batches",
    "heldout_reviews",
)
_BOUNDARY = 0  # <pad>: no review holds it, so it marks where one review ends


def check_pretrain_settings(values: Any, where: str) -> dict[str, Any]:
    """``PRETRAIN_DEFAULTS`` updated by ``values`` (a dict), every field checked."""
    from seqlab.models.registry import MAX_DIMENSION

    if not isinstance(values, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(values).__name__}.")
    unknown = sorted(set(values) - set(PRETRAIN_DEFAULTS))
    if unknown:
        raise ValueError(
            f"{where}: unknown field(s) {unknown}; known: {sorted(PRETRAIN_DEFAULTS)}."
        )
    out = {**PRETRAIN_DEFAULTS, **values}
    for key in _INT_KEYS:
        value = out[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DIMENSION:
            raise ValueError(
                f"{where}.{key}: expected an integer in [1, {MAX_DIMENSION}], got {value!r}."
            )
    for key in ("lr", "grad_clip", "input_dropout", "rnn_dropout", "output_dropout"):
        value = out[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise ValueError(f"{where}.{key}: expected a number, got {value!r}.")
    if not isinstance(out["cutoffs"], list) or not all(
        isinstance(c, int) and not isinstance(c, bool) for c in out["cutoffs"]
    ):
        raise ValueError(f"{where}.cutoffs: expected a list of integers, got {out['cutoffs']!r}.")
    return out


def language_model_task():
    """The Trainer task of a language model: mean token NLL, perplexity reported."""
    import torch

    from seqlab.train import Task

    class LanguageModelTask(Task):
        """Per-token negative log-likelihood; ``perplexity = exp(sum NLL / tokens)``."""

        name = "language_model"
        metric_names = ("perplexity",)

        def forward(self, model, batch):
            return model(batch["inputs"], targets=batch["targets"])

        def count(self, batch) -> int:
            return int(batch["targets"].numel())

        def loss(self, output, batch):
            return output.float().mean()

        def totals(self, output, batch):
            return {"nll": output.detach().float().sum()}

        def summarize(self, totals, count):
            if not count:
                return {"perplexity": math.nan}
            return {"perplexity": math.exp(min(totals.get("nll", 0.0) / count, 50.0))}

    del torch
    return LanguageModelTask()


def _vocab_digest(vocab) -> str:
    return hashlib.sha256(json.dumps(vocab.to_dict(), sort_keys=True).encode()).hexdigest()[:20]


def _streams(source, recipe, prepared: dict[str, Any], settings, cache_dir, progress):
    """(training stream, held-out stream, sizes): train part + unsup, a slice held out."""
    from seqlab._progress import track
    from seqlab.text import concatenate, load_imdb_tokenized

    vocab, tokenizer = prepared["vocab"], prepared["tokenizer"]
    unsup = load_imdb_tokenized(
        source, ("unsup",), tokenizer, cache_dir=cache_dir, progress=progress
    )["unsup"].tokens
    rng = np.random.default_rng(recipe.split_seed)
    order = rng.permutation(len(unsup))
    held = min(settings["heldout_reviews"], max(len(unsup) // 10, 1))
    heldout = [vocab.encode(unsup[i]) for i in order[:held]]
    rest = [
        vocab.encode(unsup[i]) for i in track(order[held:], progress, "encoding", unit=" reviews")
    ]
    docs = [np.asarray(d) for d in prepared["train_batches"].sequences] + rest
    docs = [docs[i] for i in rng.permutation(len(docs))]
    sizes = {"train_reviews": len(docs), "heldout_reviews": held}
    return concatenate(docs, _BOUNDARY), concatenate(heldout, _BOUNDARY), sizes


def _windows(stream: np.ndarray, settings: dict[str, Any], shuffle: bool, seed: int):
    """StreamBatches of ``stream``; a stream too short for the settings gets fewer rows and
    shorter windows (a small data set still pretrains)."""
    from seqlab.text import StreamBatches

    bptt = max(1, min(settings["bptt"], (len(stream) - 1) // 2))
    rows = max(1, min(settings["batch_size"], (len(stream) - 1) // bptt))
    limit = settings["batches_per_epoch"] if shuffle else settings["valid_batches"]
    return StreamBatches(stream, rows, bptt, shuffle=shuffle, seed=seed, max_batches=limit)


def find_lm(run_dir: str | Path) -> Path:
    """The LM run folder of ``run_dir`` (``run_dir/lm``, or ``run_dir`` itself).

    A folder without a finished LM stage is a ValueError saying how to make one.
    """
    run_dir = Path(run_dir)
    for folder in (run_dir / LM_DIR, run_dir):
        if (folder / PRETRAIN_FILE).is_file() and (folder / "model.safetensors").is_file():
            return folder
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such run folder.")
    raise ValueError(
        f"{run_dir}: no pretrained language model here (expected {run_dir / LM_DIR}/"
        f"{PRETRAIN_FILE}); make one with 'seqlab imdb train --preset pretrained --out "
        f"{run_dir}'."
    )


def pretrain_lm(
    source,
    out: Path | None,
    recipe,
    prepared: dict[str, Any],
    *,
    cache_dir=None,
    progress: bool = True,
    seed: int = 0,
    device: str = "auto",
):
    """Train (or reuse, or continue) the recipe's language model; returns the model and figures.

    ``prepared`` is :func:`~seqlab.sentiment.prepare`'s result (vocabulary, training
    part, vectors). With ``out``, the LM's run folder is ``out/lm``: reused when its
    ``pretrain.json`` holds the same settings and vocabulary, continued when a Trainer
    state without ``pretrain.json`` is there (a stopped run), trained afresh otherwise.
    Returns ``{"model", "perplexity", "seconds", "tokens_per_s", "reused", "sizes"}``.
    """
    from seqlab.io import read_json, write_json
    from seqlab.models import LanguageModel, LanguageModelConfig
    from seqlab.train import TrainConfig, Trainer, load_run, seed_everything

    settings = check_pretrain_settings(recipe.pretrain or {}, "recipe.pretrain")
    vocab = prepared["vocab"]
    record_key = {
        "settings": settings,
        "vocab": _vocab_digest(vocab),
        "embedding_dim": int(recipe.model["embedding_dim"]),
        "seed": seed,
    }
    lm_dir = Path(out) / LM_DIR if out is not None else None
    done = lm_dir / PRETRAIN_FILE if lm_dir is not None else None
    stale = False  # a finished LM of other settings is there: start afresh, not resume
    if done is not None and done.is_file():
        record = read_json(done)
        if isinstance(record, dict) and record.get("key") == record_key:
            model, _ = load_run(lm_dir, expected_model="language_model")
            logger.info("pretrained language model read from %s: pretraining skipped", lm_dir)
            return {**record["figures"], "model": model, "reused": True}
        logger.warning("%s was pretrained with other settings; pretraining again", lm_dir)
        done.unlink()
        stale = True
    started = time.perf_counter()
    stream, heldout, sizes = _streams(source, recipe, prepared, settings, cache_dir, progress)
    train_batches = _windows(stream, settings, shuffle=True, seed=seed)
    valid_batches = _windows(heldout, settings, shuffle=False, seed=seed)
    config = LanguageModelConfig(
        vocab_size=len(vocab),
        embedding_dim=int(recipe.model["embedding_dim"]),
        hidden_size=settings["hidden_size"],
        num_layers=settings["num_layers"],
        encoder=settings["encoder"],
        cutoffs=[c for c in settings["cutoffs"] if c < len(vocab)],
        input_dropout=settings["input_dropout"],
        rnn_dropout=settings["rnn_dropout"],
        output_dropout=settings["output_dropout"],
    )
    train_config = TrainConfig(
        epochs=settings["epochs"],
        lr=settings["lr"],
        optimizer="adam",
        lr_schedule=settings["lr_schedule"],
        grad_clip=settings["grad_clip"],
        monitor="valid_loss",
        seed=seed,
        device=device,
        progress=progress,
    )
    seed_everything(seed)
    model = LanguageModel(config)
    if prepared["vectors"] is not None:
        model.load_embedding(prepared["vectors"])
    from seqlab.sentiment.recipe import PIPELINE_FILE, VOCAB_FILE, pipeline_dict

    extra = {
        VOCAB_FILE: vocab.to_dict(),
        PIPELINE_FILE: pipeline_dict(recipe, prepared["tokenizer"], prepared["source"]),
    }
    trainer = Trainer(
        model,
        language_model_task(),
        train_config,
        run_dir=lm_dir,
        model_config=config,
        extra_files=extra,
    )
    resume = not stale and lm_dir is not None and (lm_dir / "trainer_state.pt").is_file()
    if resume:
        logger.info("continuing the language model stage saved in %s", lm_dir)
    history = trainer.fit(train_batches, valid_batches, resume=resume)
    best = min(history, key=lambda r: r["valid_loss"])
    speeds = [r["tokens_per_s"] for r in history if r.get("tokens_per_s")]
    figures = {
        "perplexity": best["valid_perplexity"],
        "epochs": len(history),
        "seconds": time.perf_counter() - started,
        "tokens_per_s": float(np.mean(speeds)) if speeds else None,
        "train_tokens": train_batches.num_tokens * len(history),
        "sizes": sizes,
    }
    if done is not None:
        write_json(done, {"key": record_key, "figures": figures})
    logger.info(
        "language model: held-out perplexity %.1f after %d epochs (%.0f s)",
        figures["perplexity"],
        figures["epochs"],
        figures["seconds"],
    )
    return {**figures, "model": model, "reused": False}


def generate(
    run_dir: str | Path,
    prompt: str,
    *,
    length: int = 50,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
) -> str:
    """A continuation of ``prompt`` sampled from the run's language model.

    ``temperature`` (> 0) divides the log-probabilities; ``top_k`` keeps the k most
    likely words at each step (1: greedy; None: all); ``<pad>``, ``<unk>`` and the review
    boundary are never drawn. The same ``seed`` gives the same text. Returns the prompt's
    tokens followed by the ``length`` drawn words, joined by spaces.
    """
    import torch

    from seqlab.text import Tokenizer, Vocab
    from seqlab.train import load_run

    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a string, got {type(prompt).__name__}.")
    for name, value, low in (("length", length, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}.")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(f"temperature must be a number, got {temperature!r}.")
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}.")
    folder = find_lm(run_dir)
    from seqlab.sentiment.recipe import PIPELINE_FILE, VOCAB_FILE, read_pipeline_file

    vocab = Vocab.load(folder / VOCAB_FILE)
    pipeline = read_pipeline_file(folder / PIPELINE_FILE)
    tokenizer = Tokenizer.from_dict(pipeline["tokenizer"])
    model, _ = load_run(folder, expected_model="language_model")
    words = tokenizer(prompt)
    ids = [vocab.encode(words).tolist()] if words else [[]]
    context = torch.tensor([[_BOUNDARY, *ids[0]]], dtype=torch.long)
    banned = torch.tensor(sorted({_BOUNDARY, vocab.pad_index, vocab.unk_index}))
    generator = torch.Generator().manual_seed(seed)
    drawn = []
    with torch.no_grad():
        feats, state = model.features(context)
        for _ in range(length):
            logp = model.log_probs(feats[:, -1])[0] / temperature
            logp[banned] = -math.inf
            if top_k is not None and top_k < logp.numel():
                kth = torch.topk(logp, top_k).values[-1]
                logp = logp.masked_fill(logp < kth, -math.inf)
            if top_k == 1:
                token = int(torch.argmax(logp))
            else:
                token = int(torch.multinomial(torch.softmax(logp, dim=0), 1, generator=generator))
            drawn.append(token)
            feats, state = model.features(torch.tensor([[token]]), state)
    return " ".join([*words, *vocab.decode(drawn)])

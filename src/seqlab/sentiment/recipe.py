"""The IMDB sentiment recipe: data to a trained, reloadable run folder.

tokenise -> vocabulary -> in-domain word vectors -> length-bucketed batches ->
:class:`~seqlab.models.SentimentClassifier` -> :class:`~seqlab.train.Trainer`, as plain
functions so ``seqlab imdb``, ``seqlab demo`` and ``benchmarks/imdb.py`` run the same
code. A run folder holds everything :func:`evaluate_run` and :func:`predict_texts` need:
``config.json`` (model + training + this recipe), ``vocab.json``, ``text_pipeline.json``,
the weights and the history.

torch and the text/model/train modules are imported inside the functions so that
building the ``seqlab`` argument parser, which imports this module, stays fast.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "DEMO_REVIEWS",
    "LABELS",
    "MIN_LIMIT",
    "MODEL_NAME",
    "PIPELINE_FILE",
    "PIPELINE_FORMAT",
    "PREPARED_FORMAT",
    "PRESET_ALIASES",
    "TRAINER_STATE_FILE",
    "VALID_SPLITS",
    "VOCAB_FILE",
    "ImdbRecipe",
    "check_resumable",
    "demo",
    "evaluate_run",
    "load_pipeline",
    "pipeline_dict",
    "predict_texts",
    "prepare",
    "preset",
    "read_pipeline_file",
    "read_recipe",
    "read_subset",
    "recipe_from_dict",
    "resumable",
    "train",
]

MODEL_NAME = "sentiment_classifier"
LABELS = ("negative", "positive")
PIPELINE_FILE = "text_pipeline.json"
VOCAB_FILE = "vocab.json"
PIPELINE_FORMAT = 1
# The Trainer's resume file (seqlab.train.trainer.STATE_FILE, which a test holds equal);
# named here so that the CLI's Ctrl-C hint needs no torch import.
TRAINER_STATE_FILE = "trainer_state.pt"
# Fewest training reviews a run may be limited to.
MIN_LIMIT = 10
_TRUNCATE = ("head", "tail", "head+tail")
#: How the validation part is drawn from IMDB's train split (:attr:`ImdbRecipe.valid_split`).
VALID_SPLITS = ("movie", "random")


@dataclass
class ImdbRecipe:
    """Everything that decides an IMDB run besides the data. JSON-ready."""

    punctuation: str = "keep"  # Tokenizer(punctuation=...)
    max_vocab: int = 30_000  # ordinary tokens (specials come on top)
    min_freq: int = 2
    use_unsup: bool = True  # unlabelled reviews join the vocabulary count and the vectors
    vectors: str | None = "ppmi"  # "ppmi" (computed here), a GloVe/word2vec path, or None
    vector_window: int = 5
    max_length: int | None = 400  # tokens kept per review
    truncate: str = "head+tail"
    fix_length: int | None = None  # pad every batch to this width (torchtext's fix_length)
    batch_size: int = 64
    valid_fraction: float = 0.2
    split_seed: int = 0
    # "movie": no movie in both parts (the aclImdb urls files); "random": stratified.
    valid_split: str = "movie"
    model: dict[str, Any] = field(
        default_factory=lambda: {
            "encoder": "gru",
            "embedding_dim": 128,
            # 64 rather than 128: a quarter of the recurrent matrix work, which is what
            # fits 3 epochs in the CPU budget (benchmarks/imdb.py measures tokens/s).
            "hidden_size": 64,
            "bidirectional": True,
            "pooling": "max+mean",
            "embedding_dropout": 0.3,
            "output_dropout": 0.3,
        }
    )
    train: dict[str, Any] = field(
        default_factory=lambda: {
            "epochs": 3,
            "lr": 2e-3,
            "optimizer": "adam",
            "lr_schedule": "onecycle",
            "grad_clip": 1.0,
            "monitor": "valid_accuracy",
        }
    )
    # Language-model pretraining (seqlab.sentiment.pretrain.PRETRAIN_DEFAULTS, updated by
    # this dict) before the classifier is trained from the LM's embedding and encoder;
    # None: no pretraining.
    pretrain: dict[str, Any] | None = None


def recipe_from_dict(values, where: str) -> ImdbRecipe:
    """An :class:`ImdbRecipe` from its JSON form, every field checked (bounds included).

    ``where`` names the source in errors (e.g. ``"RUN/text_pipeline.json: recipe"``).
    """
    from seqlab.models.registry import MAX_DIMENSION, MAX_VOCAB_SIZE
    from seqlab.train.schema import (
        expect_bool,
        expect_choice,
        expect_float,
        expect_int,
        expect_keys,
        expect_object,
    )

    values = expect_object(values, where)
    names = [f.name for f in dataclasses.fields(ImdbRecipe)]
    expect_keys(values, where, [], names)
    # A recipe saved before valid_split existed was validated on the random split.
    recipe = ImdbRecipe(**{"valid_split": "random", **values})
    if not isinstance(recipe.punctuation, str):
        raise ValueError(f"{where}.punctuation: expected a string, got {recipe.punctuation!r}.")
    expect_int(recipe.max_vocab, f"{where}.max_vocab", minimum=1, maximum=MAX_VOCAB_SIZE)
    expect_int(recipe.min_freq, f"{where}.min_freq", minimum=1)
    expect_bool(recipe.use_unsup, f"{where}.use_unsup")
    if recipe.vectors is not None and not isinstance(recipe.vectors, str):
        raise ValueError(f"{where}.vectors: expected a string or null, got {recipe.vectors!r}.")
    expect_int(recipe.vector_window, f"{where}.vector_window", minimum=1, maximum=1000)
    for name in ("max_length", "fix_length"):
        expect_int(
            getattr(recipe, name),
            f"{where}.{name}",
            minimum=1,
            maximum=MAX_DIMENSION,
            allow_none=True,
        )
    expect_choice(recipe.truncate, f"{where}.truncate", _TRUNCATE)
    expect_int(recipe.batch_size, f"{where}.batch_size", minimum=1, maximum=MAX_DIMENSION)
    fraction = expect_float(recipe.valid_fraction, f"{where}.valid_fraction")
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"{where}.valid_fraction: must be in (0, 1), got {fraction}.")
    expect_int(recipe.split_seed, f"{where}.split_seed", minimum=0)
    expect_choice(recipe.valid_split, f"{where}.valid_split", VALID_SPLITS)
    expect_object(recipe.model, f"{where}.model")
    expect_object(recipe.train, f"{where}.train")
    _check_train_settings(recipe.train, f"{where}.train")
    if recipe.pretrain is not None:
        from seqlab.sentiment.pretrain import check_pretrain_settings

        check_pretrain_settings(recipe.pretrain, f"{where}.pretrain")
    return recipe


def _check_train_settings(train: dict[str, Any], where: str) -> None:
    """A ValueError naming ``where`` unless ``train`` holds valid TrainConfig fields."""
    from seqlab.train.config import TrainConfig

    try:
        TrainConfig.from_dict(train)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: {exc}") from None


def resumable(run_dir: str | Path) -> bool:
    """Whether ``run_dir`` holds an IMDB run that training can continue."""
    run_dir = Path(run_dir)
    return (run_dir / PIPELINE_FILE).is_file() and (run_dir / TRAINER_STATE_FILE).is_file()


def check_resumable(run_dir: str | Path, what: str = "resume=True") -> None:
    """A ValueError saying why ``run_dir`` cannot be resumed, unless it can."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{what}: {run_dir} does not exist; nothing to resume.")
    if not (run_dir / PIPELINE_FILE).is_file():
        raise ValueError(f"{what}: {run_dir} has no {PIPELINE_FILE}; no IMDB run to continue.")
    if not (run_dir / TRAINER_STATE_FILE).is_file():
        raise ValueError(
            f"{what}: {run_dir} holds no saved training state ({TRAINER_STATE_FILE}); the run "
            "stopped before its first checkpoint. Train again without resuming."
        )


#: Old preset names still accepted for one release, and the names they now have.
PRESET_ALIASES = {"seed": "textbook"}


def preset(name: str) -> ImdbRecipe:
    """``default``: the model we recommend; ``textbook``: the textbook's set-up, bugs fixed;
    ``pretrained``: a unidirectional LSTM classifier started from a language model
    pretrained on the training part and the unlabelled reviews (``pretrain``; see
    :mod:`seqlab.sentiment.pretrain`), with max+mean pooling over its states, fine-tuned
    as ULMFiT does: discriminative learning rates (``lr_layer_decay``) and gradual
    unfreezing (``gradual_unfreeze``, see :class:`~seqlab.train.TrainConfig`).

    ``seed`` is the old name of ``textbook``, accepted for one release with a deprecation
    warning (``FutureWarning``). The textbook: words only (punctuation dropped),
    fix_length 200, vocabulary 10,000 with min_freq 10 from the training part alone,
    embedding 100, a loop of RNNCell with hidden 300, a 256-unit ReLU layer, Adam 1e-4,
    batch 64, 5 epochs. Fixed: 2 outputs for 2 classes (not 3), each review's state read
    at its true last word (not after the padding), per-sample averaged loss, evaluation
    once.
    """
    if name in PRESET_ALIASES:
        warnings.warn(
            f"preset {name!r} is now called {PRESET_ALIASES[name]!r}; the old name goes in "
            "the next release.",
            FutureWarning,
            stacklevel=2,
        )
        name = PRESET_ALIASES[name]
    if name == "default":
        return ImdbRecipe()
    if name == "textbook":
        return ImdbRecipe(
            punctuation="drop",
            max_vocab=10_000,
            min_freq=10,
            use_unsup=False,
            vectors=None,
            max_length=200,
            truncate="head",
            fix_length=200,
            batch_size=64,
            model={
                "encoder": "rnncell",
                "embedding_dim": 100,
                "hidden_size": 300,
                "bidirectional": False,
                "pooling": "last",
                "embedding_dropout": 0.0,
                "output_dropout": 0.0,
                "head_hidden": 256,
            },
            train={
                "epochs": 5,
                "lr": 1e-4,
                "optimizer": "adam",
                "lr_schedule": None,
                "grad_clip": None,
                "monitor": "valid_accuracy",
            },
        )
    if name == "pretrained":
        return ImdbRecipe(
            model={
                "encoder": "lstm",
                "embedding_dim": 128,
                "hidden_size": 128,
                "bidirectional": False,
                "pooling": "max+mean",
                "embedding_dropout": 0.1,
                "output_dropout": 0.3,
            },
            # ULMFiT's fine-tuning: one onecycle over 4 epochs; the head at lr, each layer
            # below it 2.6 times slower; epoch 1 trains the head alone, epoch 2 also the
            # LSTM, epochs 3 and 4 the embedding too (chosen on the movie-grouped
            # validation split over 3, 4 and 5 epochs).
            train={
                "epochs": 4,
                "lr": 2e-2,
                "optimizer": "adam",
                "lr_schedule": "onecycle",
                "grad_clip": 1.0,
                "monitor": "valid_accuracy",
                "lr_layer_decay": 2.6,
                "gradual_unfreeze": True,
            },
            # 4 epochs of 1,500 windows of 32 x 64 tokens: 12.3M tokens of pretraining.
            pretrain={"hidden_size": 128, "batches_per_epoch": 1500},
        )
    raise ValueError(f"unknown preset {name!r}; choose 'default', 'textbook' or 'pretrained'.")


def _movie_urls(source: Path) -> tuple[Path, dict[str, list[str]]]:
    """Where the urls files of ``source`` are and their movie ids; a clear error if none."""
    from seqlab.text import find_movie_urls, read_movie_urls

    found = find_movie_urls(source)
    hint = (
        "The movie-grouped validation split needs the aclImdb urls files (train/urls_pos.txt "
        "and urls_neg.txt, in the data or in aclImdb_train_urls.tar.gz next to it); "
        "use the random split instead with --valid-split random (valid_split='random')"
    )
    if found is None:
        raise ValueError(f"{source}: no urls files found. {hint}.")
    try:
        return found, read_movie_urls(found)
    except ValueError as exc:
        if "no train/urls_pos.txt" in str(exc):
            raise ValueError(f"{exc} {hint}.") from None
        raise


def _split_train_valid(data, recipe: ImdbRecipe):
    """(train, valid) indices of ``data`` (a labelled TokenizedDataset) under ``recipe``."""
    from seqlab.text import grouped_split, movie_of_reviews, stratified_split

    if recipe.valid_split == "random":
        return stratified_split(data.labels, recipe.valid_fraction, recipe.split_seed)
    if recipe.valid_split != "movie":
        raise ValueError(f"valid_split must be one of {VALID_SPLITS}, got {recipe.valid_split!r}.")
    where, urls = _movie_urls(Path(data.source))
    movies = movie_of_reviews(data.ids, urls, str(where))
    return grouped_split(data.labels, movies, recipe.valid_fraction, recipe.split_seed)


def _check_parts(data, train_idx: np.ndarray, valid_idx: np.ndarray, recipe: ImdbRecipe) -> None:
    """Both the training and the validation part must hold both classes."""
    labels = np.asarray(data.labels)
    need = _min_per_class(recipe.valid_fraction)
    for part, index in (("training", train_idx), ("validation", valid_idx)):
        present = set(np.unique(labels[index]).tolist())
        if present >= {0, 1}:
            continue
        counts = ", ".join(f"{int((labels == k).sum())} {LABELS[k]}" for k in (0, 1))
        holds = f"{len(index)} reviews of one class only" if present else "no reviews"
        raise ValueError(
            f"{data.source}: too few reviews to split: the {part} part would hold {holds} "
            f"(the data has {counts} reviews; at least {need} of each class are needed with "
            f"valid_fraction {recipe.valid_fraction}, and a limit must leave both classes)."
        )


def _min_per_class(fraction: float) -> int:
    """Fewest reviews of one class that leave at least one in each part of the split."""
    n = 2
    while round(n * fraction) < 1 or n - round(n * fraction) < 1:
        n += 1
    return n


# The prepared-data cache format; bump it when the file layout or its key changes.
PREPARED_FORMAT = 1


def _limits(
    recipe: ImdbRecipe, limit: int | None, valid_limit: int | None
) -> tuple[int | None, int | None]:
    """Checked ``(limit, valid_limit)``; a limit alone cuts validation in proportion."""
    for name, value in (("limit", limit), ("valid_limit", valid_limit)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < MIN_LIMIT
        ):
            raise ValueError(f"{name} must be an integer >= {MIN_LIMIT}, got {value!r}.")
    if limit is not None and valid_limit is None:
        fraction = recipe.valid_fraction
        valid_limit = max(MIN_LIMIT, round(limit * fraction / (1.0 - fraction)))
    return limit, valid_limit


def _prepared_key(recipe: ImdbRecipe, tokenizer, source: Path, limit, valid_limit) -> dict:
    """Everything the prepared data depends on: the source's identity and the settings."""
    from seqlab.text import source_identity

    vectors: Any = recipe.vectors
    if vectors not in (None, "ppmi"):
        path = Path(vectors)
        vectors = source_identity(path) if path.is_file() else str(path)
    return {
        "format": PREPARED_FORMAT,
        "dataset": "imdb",
        "source": source_identity(source),
        "tokenizer": tokenizer.to_dict(),
        "max_vocab": recipe.max_vocab,
        "min_freq": recipe.min_freq,
        "use_unsup": recipe.use_unsup,
        "vectors": vectors,
        "vector_window": recipe.vector_window,
        "embedding_dim": int(recipe.model.get("embedding_dim", 128)),
        "valid_fraction": recipe.valid_fraction,
        "split_seed": recipe.split_seed,
        "valid_split": recipe.valid_split,
        "urls": _urls_identity(source) if recipe.valid_split == "movie" else None,
        "limit": limit,
        "valid_limit": valid_limit,
    }


def _urls_identity(source: Path) -> dict | None:
    from seqlab.text import find_movie_urls, source_identity

    found = find_movie_urls(source)
    return source_identity(found) if found is not None else None


def _prepared_path(cache_dir: Path, key: dict) -> Path:
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:20]
    return cache_dir / "prepared" / f"imdb-{digest}.npz"


def _flatten(sequences: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(s) for s in sequences])
    flat = np.concatenate(sequences) if sequences else np.zeros(0, dtype=np.int64)
    return flat.astype(np.int32), offsets


def _unflatten(flat: np.ndarray, offsets: np.ndarray) -> list[np.ndarray]:
    flat = flat.astype(np.int64)
    return [flat[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]


def _write_prepared(path: Path, key: dict, prepared: dict[str, Any]) -> None:
    """One ``.npz`` (no object arrays): vocabulary and key as JSON bytes, ids, labels, vectors."""
    import json

    from seqlab.io import atomic_write

    arrays: dict[str, np.ndarray] = {
        "key": np.frombuffer(json.dumps(key, sort_keys=True).encode(), dtype=np.uint8),
        "vocab": np.frombuffer(json.dumps(prepared["vocab"].to_dict()).encode(), dtype=np.uint8),
        "source": np.frombuffer(prepared["source"].encode(), dtype=np.uint8),
        "unlabelled": np.array([prepared["sizes"]["unlabelled"]], dtype=np.int64),
    }
    for part in ("train", "valid"):
        flat, offsets = _flatten(prepared[f"{part}_ids"])
        arrays[f"{part}_ids"] = flat
        arrays[f"{part}_offsets"] = offsets
        arrays[f"{part}_labels"] = np.asarray(prepared[f"{part}_labels"], dtype=np.int64)
    if prepared["vectors"] is not None:
        arrays["vectors"] = np.asarray(prepared["vectors"], dtype=np.float32)
    with atomic_write(path, "wb") as handle:
        np.savez(handle, **arrays)


def _read_prepared(path: Path, key: dict) -> dict[str, Any] | None:
    """The cached preparation at ``path``, or None (with a warning) if it is unusable.

    Loaded with ``allow_pickle=False`` and checked for consistency (key, offsets, ids
    within the vocabulary, vector shape), so a damaged or foreign file is rebuilt.
    """
    import json
    import zipfile

    from seqlab.text import Vocab

    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        if json.loads(arrays["key"].tobytes().decode()) != json.loads(
            json.dumps(key, sort_keys=True)
        ):
            raise ValueError("it was written for other data or settings")
        vocab = Vocab.from_dict(json.loads(arrays["vocab"].tobytes().decode()), str(path))
        unlabelled = arrays["unlabelled"]
        if unlabelled.shape != (1,) or unlabelled[0] < 0:
            raise ValueError("its unlabelled count is not one non-negative integer")
        out: dict[str, Any] = {"vocab": vocab, "source": arrays["source"].tobytes().decode()}
        for part in ("train", "valid"):
            flat, offsets = arrays[f"{part}_ids"], arrays[f"{part}_offsets"]
            labels = arrays[f"{part}_labels"]
            if (
                flat.ndim != 1
                or offsets.ndim != 1
                or len(offsets) != len(labels) + 1
                or offsets[0] != 0
                or offsets[-1] != len(flat)
                or np.any(np.diff(offsets) < 0)
                or (flat.size and (flat.min() < 0 or flat.max() >= len(vocab)))
                or not np.isin(labels, (0, 1)).all()
            ):
                raise ValueError(f"its {part} ids, offsets or labels are inconsistent")
            out[f"{part}_ids"] = _unflatten(flat, offsets)
            out[f"{part}_labels"] = labels.astype(np.int64)
        vectors = arrays.get("vectors")
        if vectors is not None and (
            vectors.ndim != 2
            or vectors.shape[0] != len(vocab)
            or vectors.shape[1] != key["embedding_dim"]
            or not np.isfinite(vectors).all()
        ):
            raise ValueError("its vectors do not fit the vocabulary")
        if (vectors is None) != (key["vectors"] is None):
            raise ValueError("it has no vectors" if vectors is None else "it has vectors")
        out["vectors"] = vectors
        out["sizes"] = {
            "train": len(out["train_ids"]),
            "valid": len(out["valid_ids"]),
            "unlabelled": int(unlabelled[0]),
        }
        return out
    except (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError, zipfile.BadZipFile) as exc:
        logger.warning(
            "rebuilding the prepared IMDB data: the cache file %s is unusable (%s)", path, exc
        )
        return None


def prepare(
    data_path: str | Path | None,
    recipe: ImdbRecipe,
    *,
    cache_dir: str | Path | None = None,
    download: bool = False,
    limit: int | None = None,
    valid_limit: int | None = None,
    unlabelled: bool | None = None,
    use_cache: bool = True,
    progress: bool = True,
) -> dict[str, Any]:
    """Tokenise, split, build the vocabulary and vectors, and make the batches.

    ``limit`` keeps a random subset (seeded by ``split_seed``) of that many reviews of
    the training part, and cuts every other split it touches in proportion: the
    validation part to ``round(limit * valid_fraction / (1 - valid_fraction))`` reviews
    (at least :data:`MIN_LIMIT`; the same ratio as the full split) unless ``valid_limit``
    gives its count, and the unlabelled reviews to the same fraction of their number as
    the training part keeps of its own. ``unlabelled`` (None: the recipe's ``use_unsup``)
    chooses whether the unlabelled reviews join the vocabulary count and the vectors; the
    returned ``recipe`` records the choice.

    The vocabulary, the ids of both parts and the vectors are cached under
    ``cache_dir/prepared/`` in one ``.npz`` (read with ``allow_pickle=False``), keyed by
    the source's identity (:func:`seqlab.text.source_identity`) and every setting above,
    so a second call with the same data and settings skips tokenising, counting and the
    vectors and says so; a damaged cache file is rebuilt with a warning. The tokenised
    reviews are cached too (:func:`seqlab.text.load_imdb_tokenized`). ``progress`` shows
    tqdm bars on stderr for the steps that take more than a moment.

    Returns a dict with ``tokenizer``, ``vocab``, ``vectors`` (or None),
    ``train_batches``, ``valid_batches``, ``source``, ``recipe``, ``sizes`` (reviews
    used: ``{"train", "valid", "unlabelled"}``), ``from_cache`` and ``timings`` (seconds
    per stage: ``tokenise``, ``vocab``, ``vectors``, ``cache`` (reading the prepared-data
    cache) and ``batches``; a stage that did not run counts 0).
    """
    from seqlab.text import Tokenizer, default_cache_dir, resolve_imdb

    if unlabelled is not None:
        if not isinstance(unlabelled, bool):
            raise TypeError(f"unlabelled must be a bool or None, got {unlabelled!r}.")
        recipe = dataclasses.replace(recipe, use_unsup=unlabelled)
    limit, valid_limit = _limits(recipe, limit, valid_limit)
    started = time.perf_counter()
    tokenizer = Tokenizer(punctuation=recipe.punctuation)
    source = resolve_imdb(data_path, download=download, cache_dir=cache_dir)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    key = _prepared_key(recipe, tokenizer, source, limit, valid_limit)
    path = _prepared_path(cache, key)
    cached = _read_prepared(path, key) if use_cache and path.is_file() else None
    if cached is not None:
        from seqlab._progress import notice

        notice(
            logger,
            progress,
            "prepared IMDB data (vocabulary, ids, vectors) read from the cache %s: "
            "tokenising and vectors skipped",
            path,
        )
        timings = {"tokenise": 0.0, "vocab": 0.0, "vectors": 0.0}
        timings["cache"] = time.perf_counter() - started
        parts = cached
    else:
        timings = {"cache": 0.0}
        parts = _prepare_parts(
            source, recipe, tokenizer, cache, limit, valid_limit, use_cache, progress, timings
        )
        if use_cache:
            try:
                _write_prepared(path, key, parts)
            except OSError as exc:
                logger.warning("could not write the prepared-data cache %s (%s)", path, exc)
    logger.info(
        "IMDB reviews used: %(train)d training, %(valid)d validation, %(unlabelled)d unlabelled",
        parts["sizes"],
    )
    started = time.perf_counter()
    batches = _batches(recipe, parts)
    timings["batches"] = time.perf_counter() - started
    return {
        "tokenizer": tokenizer,
        "vocab": parts["vocab"],
        "vectors": parts["vectors"],
        **batches,
        "source": parts["source"],
        "recipe": recipe,
        "sizes": parts["sizes"],
        "from_cache": cached is not None,
        "timings": timings,
    }


def _prepare_parts(
    source: Path,
    recipe: ImdbRecipe,
    tokenizer,
    cache: Path,
    limit: int | None,
    valid_limit: int | None,
    use_cache: bool,
    progress: bool,
    timings: dict[str, float],
) -> dict[str, Any]:
    """Vocabulary, ids and labels of both parts, and vectors, computed from the source."""
    from seqlab._progress import track
    from seqlab.text import Vocab, load_imdb_tokenized, load_vectors, ppmi_svd_vectors

    started = time.perf_counter()
    splits = ("train", "unsup") if recipe.use_unsup else ("train",)
    data = load_imdb_tokenized(
        source, splits, tokenizer, cache_dir=cache, use_cache=use_cache, progress=progress
    )
    train_idx, valid_idx = _split_train_valid(data["train"], recipe)
    rng = np.random.default_rng(recipe.split_seed)
    full_train = len(train_idx)
    if limit is not None:
        train_idx = np.sort(rng.permutation(train_idx)[:limit])
    if valid_limit is not None:
        valid_idx = np.sort(rng.permutation(valid_idx)[:valid_limit])
    _check_parts(data["train"], train_idx, valid_idx, recipe)
    tokens = data["train"].tokens
    labels = data["train"].labels
    unsup: list[list[str]] = []
    if recipe.use_unsup:
        unsup = data["unsup"].tokens
        if limit is not None:
            keep = round(len(unsup) * len(train_idx) / full_train)
            chosen = np.sort(rng.permutation(len(unsup))[:keep])
            unsup = [unsup[i] for i in chosen]
    timings["tokenise"] = time.perf_counter() - started

    started = time.perf_counter()
    streams = [tokens[i] for i in train_idx]
    vocab = Vocab.build(
        track(streams + unsup, progress, "counting the vocabulary", unit=" reviews"),
        max_size=recipe.max_vocab,
        min_freq=recipe.min_freq,
    )
    encode = vocab.encode
    train_ids = [encode(t) for t in track(streams, progress, "encoding", unit=" reviews")]
    valid_ids = [encode(tokens[i]) for i in valid_idx]
    timings["vocab"] = time.perf_counter() - started

    started = time.perf_counter()
    vectors = None
    dim = int(recipe.model.get("embedding_dim", 128))
    if recipe.vectors == "ppmi":
        unsup_ids = [
            encode(t) for t in track(unsup, progress, "encoding unlabelled", unit=" reviews")
        ]
        vectors = ppmi_svd_vectors(
            train_ids + unsup_ids, len(vocab), dim, window=recipe.vector_window, progress=progress
        )
    elif recipe.vectors is not None:
        vectors, found = load_vectors(recipe.vectors, vocab)
        if vectors.shape[1] != dim:
            raise ValueError(
                f"{recipe.vectors}: vectors have {vectors.shape[1]} dimensions but the "
                f"model's embedding_dim is {dim}; set them equal."
            )
        logger.info("pretrained vectors cover %d of %d tokens", found, len(vocab))
    timings["vectors"] = time.perf_counter() - started
    return {
        "vocab": vocab,
        "vectors": vectors,
        "train_ids": train_ids,
        "train_labels": labels[train_idx],
        "valid_ids": valid_ids,
        "valid_labels": labels[valid_idx],
        "source": str(data["train"].source),
        "sizes": {"train": len(train_ids), "valid": len(valid_ids), "unlabelled": len(unsup)},
    }


def _batches(recipe: ImdbRecipe, parts: dict[str, Any]) -> dict[str, Any]:
    from seqlab.text import BucketBatches

    common = {
        "max_length": recipe.max_length,
        "truncate": recipe.truncate,
        "fix_length": recipe.fix_length,
    }
    return {
        "train_batches": BucketBatches(
            parts["train_ids"],
            parts["train_labels"],
            recipe.batch_size,
            shuffle=True,
            seed=recipe.split_seed,
            **common,
        ),
        "valid_batches": BucketBatches(
            parts["valid_ids"],
            parts["valid_labels"],
            max(recipe.batch_size, 256),
            shuffle=False,
            **common,
        ),
    }


def pipeline_dict(
    recipe: ImdbRecipe,
    tokenizer,
    source: str | None,
    subset: dict[str, int | None] | None = None,
) -> dict[str, Any]:
    """The ``text_pipeline.json`` of a run: how raw text becomes the model's input.

    ``subset`` (``{"limit": ..., "valid_limit": ...}``, :func:`train`'s arguments) is kept
    so that a resumed run rebuilds the same batches.
    """
    return {
        "format": PIPELINE_FORMAT,
        "tokenizer": tokenizer.to_dict(),
        "max_length": recipe.max_length,
        "truncate": recipe.truncate,
        "fix_length": recipe.fix_length,
        "labels": list(LABELS),
        "recipe": dataclasses.asdict(recipe),
        "data": source,
        "subset": subset if subset is not None else _subset(None, None),
    }


def _subset(limit: int | None, valid_limit: int | None) -> dict[str, int | None]:
    return {"limit": limit, "valid_limit": valid_limit}


def _check_resume(out: Path, recipe: ImdbRecipe, subset: dict[str, int | None]) -> None:
    """A resumed run must rebuild the interrupted run's vocabulary and batches.

    The Trainer checks the model and training settings and notices fewer batches, but a
    different recipe or subset with as many batches would go on silently with other data.
    """
    check_resumable(out)
    path = out / PIPELINE_FILE
    saved = read_pipeline_file(path)
    if saved["recipe"] != recipe:
        raise ValueError(
            f"{out} was trained with another recipe; resume with read_recipe({str(out)!r})."
        )
    # Run folders written before the subset was recorded have no "subset": not checkable.
    if "subset" in saved and saved["subset"] != subset:
        raise ValueError(
            f"{out} was trained on limit={saved['subset']['limit']}, "
            f"valid_limit={saved['subset']['valid_limit']} reviews, not limit="
            f"{subset['limit']}, valid_limit={subset['valid_limit']}; resume with the same "
            "limits (read_subset gives them)."
        )


def read_subset(run_dir: str | Path) -> dict[str, int | None]:
    """``{"limit": ..., "valid_limit": ...}`` a run folder was trained with (None: all)."""
    path = Path(run_dir) / PIPELINE_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} has no {PIPELINE_FILE}; it is not an IMDB run folder.")
    return read_pipeline_file(path).get("subset", _subset(None, None))


def train(
    data_path: str | Path | None,
    out: str | Path | None,
    recipe: ImdbRecipe,
    *,
    cache_dir: str | Path | None = None,
    download: bool = False,
    resume: bool = False,
    progress: bool = True,
    limit: int | None = None,
    valid_limit: int | None = None,
    unlabelled: bool | None = None,
    use_cache: bool = True,
    train_overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Prepare the data and train; returns ``prepare``'s dict plus ``trainer``, ``history``.

    ``limit``, ``valid_limit``, ``unlabelled``, ``use_cache`` and ``progress`` are
    :func:`prepare`'s (``progress`` also drives the Trainer's bar); the run folder records
    the recipe with ``unlabelled`` applied.
    """
    from seqlab.models import SentimentConfig
    from seqlab.train import ClassificationTask, TrainConfig, Trainer, seed_everything

    if unlabelled is not None:
        if not isinstance(unlabelled, bool):
            raise TypeError(f"unlabelled must be a bool or None, got {unlabelled!r}.")
        recipe = dataclasses.replace(recipe, use_unsup=unlabelled)
    subset = _subset(limit, valid_limit)
    if resume and out is not None:
        _check_resume(Path(out), recipe, subset)
    prepared = prepare(
        data_path,
        recipe,
        cache_dir=cache_dir,
        download=download,
        limit=limit,
        valid_limit=valid_limit,
        use_cache=use_cache,
        progress=progress,
    )
    vocab, tokenizer = prepared["vocab"], prepared["tokenizer"]
    settings = {"seed": recipe.split_seed, **recipe.train, "progress": progress}
    settings.update(train_overrides or {})
    train_config = TrainConfig(**settings)
    config = SentimentConfig(vocab_size=len(vocab), pad_index=vocab.pad_index, **recipe.model)
    seed_everything(train_config.seed if train_config.seed is not None else 0)
    from seqlab.models import SentimentClassifier

    model = SentimentClassifier(config)
    if prepared["vectors"] is not None:
        model.load_embedding(prepared["vectors"])
    if recipe.pretrain is not None:
        started = time.perf_counter()
        lm = _pretrained(data_path, out, recipe, prepared, cache_dir, progress, train_config)
        _transfer(lm["model"], model)
        prepared["timings"]["pretrain"] = time.perf_counter() - started
        prepared["pretrain"] = {k: v for k, v in lm.items() if k != "model"}
        seed_everything(train_config.seed if train_config.seed is not None else 0)
    extra = {
        VOCAB_FILE: vocab.to_dict(),
        PIPELINE_FILE: pipeline_dict(recipe, tokenizer, prepared["source"], subset),
    }
    trainer = Trainer(
        model,
        ClassificationTask(),
        train_config,
        run_dir=out,
        model_config=config,
        extra_files=extra,
    )
    started = time.perf_counter()
    history = trainer.fit(prepared["train_batches"], prepared["valid_batches"], resume=resume)
    prepared["timings"]["train"] = time.perf_counter() - started
    return {**prepared, "trainer": trainer, "history": history, "model": model}


def _pretrained(data_path, out, recipe, prepared, cache_dir, progress, train_config):
    """The recipe's language model: pretrained now, or read back from ``out/lm``."""
    from seqlab.sentiment.pretrain import pretrain_lm
    from seqlab.text import resolve_imdb

    source = resolve_imdb(data_path, cache_dir=cache_dir)
    return pretrain_lm(
        source,
        Path(out) if out is not None else None,
        recipe,
        prepared,
        cache_dir=cache_dir,
        progress=progress,
        seed=train_config.seed if train_config.seed is not None else 0,
        device=train_config.device,
    )


def _transfer(lm, model) -> None:
    """Copy a language model's embedding and LSTM into a classifier of the same sizes."""
    import torch

    c = model.config
    if c.encoder != "lstm" or c.bidirectional or c.hidden_size != lm.config.hidden_size:
        raise ValueError(
            "a pretrained language model needs a unidirectional lstm classifier with its "
            f"hidden_size {lm.config.hidden_size} (model: encoder {c.encoder!r}, "
            f"bidirectional {c.bidirectional}, hidden_size {c.hidden_size})."
        )
    if c.num_layers != lm.config.num_layers or c.embedding_dim != lm.config.embedding_dim:
        raise ValueError(
            f"the classifier's num_layers/embedding_dim ({c.num_layers}, {c.embedding_dim}) "
            f"differ from the language model's ({lm.config.num_layers}, "
            f"{lm.config.embedding_dim})."
        )
    with torch.no_grad():
        model.embedding.weight.copy_(lm.embedding.weight)
    model.encoder.load_state_dict(lm.encoder.state_dict())


def read_pipeline_file(path: str | Path) -> dict[str, Any]:
    """A run's ``text_pipeline.json``, every field checked; ``recipe`` as an ImdbRecipe.

    Older files without ``labels`` or ``subset`` get the defaults; anything present must
    have its type and bounds (a ValueError naming the file and field otherwise).
    """
    from seqlab.models.registry import MAX_DIMENSION
    from seqlab.train.schema import (
        expect_choice,
        expect_int,
        expect_keys,
        expect_object,
        expect_str_list,
        read_json_file,
    )

    path = Path(path)
    where = str(path)
    pipeline = read_json_file(path, dict, PIPELINE_FILE)
    version = pipeline.get("format")
    if isinstance(version, bool) or not isinstance(version, int) or version > PIPELINE_FORMAT:
        raise ValueError(
            f"{path}: format {version!r} is not one this seqlab reads "
            f"(up to {PIPELINE_FORMAT}); upgrade seqlab."
        )
    expect_keys(
        pipeline,
        where,
        ["format", "tokenizer", "max_length", "truncate", "recipe"],
        ["fix_length", "labels", "data", "subset"],
    )
    expect_object(pipeline["tokenizer"], f"{where}: tokenizer")
    for name in ("max_length", "fix_length"):
        expect_int(
            pipeline.get(name),
            f"{where}: {name}",
            minimum=1,
            maximum=MAX_DIMENSION,
            allow_none=True,
        )
    expect_choice(pipeline["truncate"], f"{where}: truncate", _TRUNCATE)
    pipeline["labels"] = expect_str_list(
        pipeline.get("labels", list(LABELS)),
        f"{where}: labels",
        min_length=2,
        max_length=MAX_DIMENSION,
        unique=True,
    )
    subset = expect_object(pipeline.get("subset", _subset(None, None)), f"{where}: subset")
    expect_keys(subset, f"{where}: subset", ["limit", "valid_limit"])
    for name in ("limit", "valid_limit"):
        expect_int(subset[name], f"{where}: subset.{name}", minimum=1, allow_none=True)
    pipeline["recipe"] = recipe_from_dict(pipeline["recipe"], f"{where}: recipe")
    return pipeline


def load_pipeline(run_dir: str | Path):
    """``(model, tokenizer, vocab, pipeline dict)`` from a run folder, checked."""
    from seqlab.text import Tokenizer, Vocab
    from seqlab.train import load_run

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: no such run folder.")
    model, _ = load_run(run_dir, expected_model=MODEL_NAME)
    for name in (PIPELINE_FILE, VOCAB_FILE):
        if not (run_dir / name).is_file():
            raise ValueError(f"{run_dir} has no {name}; it is not an IMDB run folder.")
    pipeline = read_pipeline_file(run_dir / PIPELINE_FILE)
    if len(pipeline["labels"]) != model.config.num_classes:
        raise ValueError(
            f"{run_dir / PIPELINE_FILE}: {len(pipeline['labels'])} labels but the model has "
            f"{model.config.num_classes} outputs; the run folder is inconsistent."
        )
    try:
        tokenizer = Tokenizer.from_dict(pipeline["tokenizer"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{run_dir / PIPELINE_FILE}: tokenizer: {exc}") from None
    vocab = Vocab.load(run_dir / VOCAB_FILE)
    if len(vocab) != model.config.vocab_size:
        raise ValueError(
            f"{run_dir}: vocab.json has {len(vocab)} entries but the model was built for "
            f"{model.config.vocab_size}; the run folder is inconsistent."
        )
    return model, tokenizer, vocab, pipeline


def predict_texts(run_dir: str | Path, texts: list[str]) -> list[tuple[str, float]]:
    """``(label, probability of that label)`` for each text."""
    import torch

    from seqlab.text import pad_batch, truncate_ids

    model, tokenizer, vocab, pipeline = load_pipeline(run_dir)
    encoded = []
    for i, text in enumerate(texts):
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"text {i} is empty; give a review to classify.")
        ids = truncate_ids(
            vocab.encode(tokenizer(text)), pipeline["max_length"], pipeline["truncate"]
        )
        if len(ids) == 0:
            raise ValueError(f"text {i} has no words the tokenizer keeps: {text!r}.")
        encoded.append(ids)
    inputs, lengths = pad_batch(encoded, vocab.pad_index, pipeline.get("fix_length"))
    with torch.no_grad():
        probs = torch.softmax(model(inputs, lengths=lengths), dim=1)
    labels = pipeline["labels"]
    best = probs.argmax(dim=1)
    return [(labels[int(k)], float(probs[i, k])) for i, k in enumerate(best)]


def evaluate_run(
    run_dir: str | Path,
    data_path: str | Path | None,
    split: str = "valid",
    *,
    cache_dir: str | Path | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Accuracy, loss, count and seconds of a run on ``valid`` (its own split) or ``test``.

    ``progress`` shows tqdm bars on stderr for reading, tokenising and evaluating when
    they take more than a moment.
    """
    from seqlab._progress import track
    from seqlab.text import BucketBatches, load_imdb_tokenized
    from seqlab.train import ClassificationTask, TrainConfig, Trainer

    if split not in ("valid", "test"):
        raise ValueError(f"split must be 'valid' or 'test', got {split!r}.")
    model, tokenizer, vocab, pipeline = load_pipeline(run_dir)
    recipe = pipeline["recipe"]
    source_split = "train" if split == "valid" else "test"
    data = load_imdb_tokenized(
        data_path, (source_split,), tokenizer, cache_dir=cache_dir, progress=progress
    )
    part = data[source_split]
    index = _split_train_valid(part, recipe)[1] if split == "valid" else np.arange(len(part))
    batches = BucketBatches(
        [vocab.encode(part.tokens[i]) for i in index],
        part.labels[index],
        256,
        shuffle=False,
        max_length=pipeline["max_length"],
        truncate=pipeline["truncate"],
        fix_length=pipeline.get("fix_length"),
    )
    trainer = Trainer(model, ClassificationTask(), TrainConfig(progress=False, seed=None))
    metrics = trainer.evaluate(track(batches, progress, f"evaluating on {split}", unit=" batches"))
    return {"split": split, **metrics}


def read_recipe(run_dir: str | Path) -> ImdbRecipe:
    """The :class:`ImdbRecipe` a run folder was trained with (from its pipeline file)."""
    path = Path(run_dir) / PIPELINE_FILE
    if not path.is_file():
        raise ValueError(f"{run_dir} has no {PIPELINE_FILE}; it is not an IMDB run folder.")
    return read_pipeline_file(path)["recipe"]


DEMO_REVIEWS = 2000  # training reviews and validation reviews of the demo run


def demo(path: str | Path | None = None) -> dict[str, Any] | None:
    """A short sentiment run for ``seqlab demo``; None when no IMDB data is found.

    Trains a small bi-GRU for 2 epochs on 2,000 reviews cut to 120 tokens and measures
    its accuracy on 2,000 reviews of the validation part: seconds, not minutes, and far
    from the full recipe's figure (``seqlab imdb train`` / ``benchmarks/imdb.py``).
    Returns :func:`train`'s dict plus ``data``, the IMDB path used.
    """
    from seqlab.text import find_imdb

    found = find_imdb(path)
    if found is None:
        return None
    recipe = ImdbRecipe(
        use_unsup=False,
        vectors=None,
        max_length=120,
        model={"encoder": "gru", "embedding_dim": 64, "hidden_size": 64, "pooling": "max+mean"},
        train={"epochs": 2, "lr": 3e-3, "lr_schedule": "onecycle", "monitor": "valid_accuracy"},
    )
    result = train(
        found, None, recipe, progress=False, limit=DEMO_REVIEWS, valid_limit=DEMO_REVIEWS
    )
    return {**result, "data": found}

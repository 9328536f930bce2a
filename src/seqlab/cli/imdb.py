"""``seqlab imdb train|evaluate|predict``: IMDB sentiment with a recurrent classifier.

Parsing and printing only; the recipe is :mod:`seqlab.sentiment`.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import shlex
from pathlib import Path

from seqlab.cli._training_flags import (
    DEFAULT_SEED,
    add_training_flags,
    check_training_flags,
    logger_lines,
    training_callbacks,
)
from seqlab.sentiment import (
    MIN_LIMIT,
    TRAINER_STATE_FILE,
    VALID_SPLITS,
    ImdbRecipe,
    check_resumable,
    evaluate_run,
    predict_texts,
    preset,
    read_recipe,
    read_subset,
    resumable,
    train,
)

# Imported before a command runs, with Ctrl-C held back (see seqlab.cli.main): a Ctrl-C
# that lands inside torch's import would leave it half initialised.
_PRELOAD = ("torch", "seqlab.models", "seqlab.text", "seqlab.train")


def _train_interrupted(args: argparse.Namespace) -> str:
    """The resume hint after a Ctrl-C; reads the folder only (imports nothing)."""
    out = shlex.quote(str(args.out))
    if resumable(args.out):
        return (
            f"the run in {out} is saved. Continue it with: "
            f"seqlab imdb train --out {out} --resume (and the same --data)"
        )
    if (Path(args.out) / "lm" / TRAINER_STATE_FILE).is_file():
        return (
            f"the language-model stage in {out}/lm is saved; run the same command again "
            "(without --resume) to continue it"
        )
    return f"no checkpoint was reached, nothing resumable was saved in {out}"


logger = logging.getLogger(__name__)

__all__ = ["PRESETS", "print_demo", "recipe_from_args", "register"]

#: ``--preset`` names; ``seed`` is the hidden old name of ``textbook`` (one release).
PRESETS = ("default", "textbook", "pretrained")
_PRESET_ALIASES = {"seed": "textbook"}


class _PresetAction(argparse.Action):
    """Stores the preset, mapping a hidden old name to its new one (noted in ``args``)."""

    def __call__(self, parser, namespace, value, option_string=None) -> None:
        if value in _PRESET_ALIASES:
            namespace.preset_alias = value
            value = _PRESET_ALIASES[value]
        if value not in PRESETS:
            parser.error(
                f"argument --preset: invalid choice: {value!r} (choose from {', '.join(PRESETS)})"
            )
        setattr(namespace, self.dest, value)


def register(subparsers) -> None:
    parser = subparsers.add_parser("imdb", help="IMDB sentiment: train, evaluate, predict")
    commands = parser.add_subparsers(dest="imdb_command", metavar="COMMAND", required=True)

    fit = commands.add_parser(
        "train",
        help="train a recurrent sentiment classifier",
        description="Train on the train split (80/20 train/valid, seed 0; by default no movie "
        "is in both parts, see --valid-split). "
        "DATA is an aclImdb folder or tarball; default: $SEQLAB_IMDB, the cache, "
        "the shared data folder.",
    )
    fit.add_argument("--data", help="aclImdb folder or .tar.gz (default: look for one)")
    fit.add_argument("--out", required=True, help="run folder to write")
    fit.add_argument(
        "--preset",
        action=_PresetAction,
        default="default",
        metavar="{default,textbook,pretrained}",
        help="default: the recipe we recommend; textbook: the textbook chapter's set-up "
        "(its bugs fixed); pretrained: an LSTM classifier fine-tuned from a language model "
        "pretrained on the reviews (the LM stage is kept in OUT/lm and reused)",
    )
    fit.add_argument("--model", choices=("rnncell", "rnn", "lstm", "gru"), help="encoder")
    fit.add_argument("--epochs", type=int)
    fit.add_argument("--lr", type=float)
    fit.add_argument(
        "--lr-layer-decay",
        type=float,
        metavar="DECAY",
        help="discriminative learning rates: each layer from the output down trains DECAY "
        "times slower than the one above it (ULMFiT: 2.6)",
    )
    fit.add_argument(
        "--gradual-unfreeze",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="epoch 1 trains only the head, epoch 2 also the top recurrent layer, ... "
        "(default: the preset's choice)",
    )
    fit.add_argument("--batch-size", type=int)
    fit.add_argument("--max-length", type=int, help="tokens kept per review")
    fit.add_argument("--embedding-dim", type=int)
    fit.add_argument("--hidden-size", type=int)
    fit.add_argument("--vocab-size", type=int, help="ordinary tokens in the vocabulary")
    fit.add_argument("--vectors", help="'ppmi', 'none' or a GloVe/word2vec text file")
    fit.add_argument(
        "--limit",
        type=int,
        help="use only this many training reviews; validation and unlabelled reviews are "
        "cut in proportion",
    )
    fit.add_argument(
        "--unlabelled",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="use the 50,000 unlabelled reviews for the vocabulary and word vectors "
        "(default: the preset's choice)",
    )
    fit.add_argument(
        "--lm-batches",
        type=int,
        help="--preset pretrained: language-model training windows in all (spread over "
        "its epochs); the pretraining budget",
    )
    fit.add_argument(
        "--valid-split",
        choices=VALID_SPLITS,
        help="how the 20%% validation part is drawn: movie (default; no movie in both parts, "
        "from the aclImdb urls files) or random (stratified by label)",
    )
    fit.add_argument("--resume", action="store_true", help="continue the run in --out")
    fit.add_argument("--download", action="store_true", help="fetch aclImdb_v1.tar.gz")
    fit.add_argument("--cache-dir", help="cache folder (downloads, tokenised data)")
    add_training_flags(fit)
    fit.set_defaults(func=run_train, preload=_PRELOAD, on_interrupt=_train_interrupted)

    ev = commands.add_parser("evaluate", help="accuracy of a run on valid or test")
    ev.add_argument("--run", required=True, help="run folder from 'seqlab imdb train'")
    ev.add_argument("--data", help="aclImdb folder or .tar.gz (default: look for one)")
    ev.add_argument("--split", choices=("valid", "test"), default="valid")
    ev.add_argument("--cache-dir", help="cache folder (tokenised data)")
    ev.add_argument("--json", action="store_true", help="print one JSON object")
    ev.add_argument("--quiet", action="store_true", help="no progress bars")
    ev.set_defaults(func=run_evaluate, preload=_PRELOAD)

    gen = commands.add_parser(
        "generate",
        help="sample review text from a run's pretrained language model",
        description="Continue PROMPT with words sampled from the language model of a "
        "'seqlab imdb train --preset pretrained' run.",
    )
    gen.add_argument("--run", required=True, help="run folder holding lm/ (or an lm folder)")
    gen.add_argument("prompt", help='the text to continue, e.g. "This movie"')
    gen.add_argument("--temperature", type=float, default=1.0, help="> 0; lower is safer")
    gen.add_argument("--top-k", type=int, help="draw from the K likeliest words (1: greedy)")
    gen.add_argument("--length", type=int, default=40, help="words to draw (default 40)")
    gen.add_argument("--seed", type=int, default=0, help="the same seed gives the same text")
    gen.set_defaults(func=run_generate, preload=_PRELOAD)

    pr = commands.add_parser("predict", help="label and probability of a review")
    pr.add_argument("--run", required=True, help="run folder from 'seqlab imdb train'")
    pr.add_argument("text", nargs="+", help="review text(s)")
    pr.set_defaults(func=run_predict, preload=_PRELOAD)


def _positive(value: int | None, name: str) -> None:
    if value is not None and value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}.")


def recipe_from_args(args: argparse.Namespace) -> ImdbRecipe:
    recipe = preset(args.preset)
    for name in (
        "epochs",
        "batch_size",
        "max_length",
        "embedding_dim",
        "hidden_size",
        "vocab_size",
        "limit",
    ):
        _positive(getattr(args, name, None), "--" + name.replace("_", "-"))
    if args.lr is not None and not args.lr > 0:
        raise ValueError(f"--lr must be positive, got {args.lr}.")
    decay = getattr(args, "lr_layer_decay", None)
    if decay is not None and not (math.isfinite(decay) and decay > 0):
        raise ValueError(f"--lr-layer-decay must be a positive number, got {decay}.")
    if args.model:
        recipe.model["encoder"] = args.model
    if args.embedding_dim:
        recipe.model["embedding_dim"] = args.embedding_dim
    if args.hidden_size:
        recipe.model["hidden_size"] = args.hidden_size
        if recipe.pretrain is not None:
            recipe.pretrain["hidden_size"] = args.hidden_size
    if args.epochs:
        recipe.train["epochs"] = args.epochs
    if args.lr:
        recipe.train["lr"] = args.lr
    if decay is not None:
        recipe.train["lr_layer_decay"] = decay
    if getattr(args, "gradual_unfreeze", None) is not None:
        recipe.train["gradual_unfreeze"] = args.gradual_unfreeze
    if args.batch_size:
        recipe.batch_size = args.batch_size
    if args.max_length:
        recipe.max_length = args.max_length
        if recipe.fix_length is not None:
            recipe.fix_length = args.max_length
    if args.vocab_size:
        recipe.max_vocab = args.vocab_size
    if getattr(args, "valid_split", None):
        recipe.valid_split = args.valid_split
    lm_batches = getattr(args, "lm_batches", None)
    if lm_batches is not None:
        _positive(lm_batches, "--lm-batches")
        if recipe.pretrain is None:
            raise ValueError("--lm-batches sets the pretraining budget of --preset pretrained.")
        from seqlab.sentiment.pretrain import PRETRAIN_DEFAULTS

        epochs = {**PRETRAIN_DEFAULTS, **recipe.pretrain}["epochs"]
        recipe.pretrain["batches_per_epoch"] = max(1, lm_batches // epochs)
    if args.vectors is not None:
        recipe.vectors = None if args.vectors == "none" else args.vectors
        if recipe.vectors not in (None, "ppmi") and not Path(recipe.vectors).is_file():
            raise ValueError(f"--vectors {recipe.vectors}: no such file.")
    return recipe


def _saved_seed(run_dir: Path, default: int) -> int | None:
    """The training seed in ``run_dir/config.json`` (``default`` where it records none)."""
    from seqlab.io import read_json

    config = read_json(run_dir / "config.json")
    train = config.get("train") if isinstance(config, dict) else None
    seed = train.get("seed", default) if isinstance(train, dict) else default
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise ValueError(f"{run_dir / 'config.json'}: train.seed must be an integer >= 0.")
    return seed


def run_train(args: argparse.Namespace) -> int:
    from seqlab.train.callbacks import attached

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ValueError(
            f"--out {args.out}: exists and is not a folder; give a folder for the run."
        )
    alias = getattr(args, "preset_alias", None)
    if alias is not None:
        logger.warning(
            "--preset %s is deprecated and will be removed; it is now --preset %s",
            alias,
            args.preset,
        )
    check_training_flags(args, out)
    if args.limit is not None and args.limit < MIN_LIMIT:
        raise ValueError(
            f"--limit {args.limit}: too few reviews to train on; use at least {MIN_LIMIT}."
        )
    if args.resume:
        check_resumable(out, "--resume")
        recipe = read_recipe(out)
        saved_limit = read_subset(out)["limit"]
        if args.limit is not None and args.limit != saved_limit:
            trained_on = "all reviews" if saved_limit is None else f"--limit {saved_limit}"
            raise ValueError(
                f"--limit {args.limit}: the run in {out} was trained with {trained_on}; "
                "resume without --limit."
            )
        limit = saved_limit
    else:
        recipe = recipe_from_args(args)
        limit = args.limit
    # A resumed run keeps the seed it was trained with unless --seed is given again.
    seed = DEFAULT_SEED if args.seed is None else args.seed
    if args.resume and args.seed is None:
        seed = _saved_seed(out, seed)
    overrides = {"device": args.device, "seed": seed}
    callbacks = training_callbacks(args, out, epoch_lines=True)
    with attached(callbacks):
        result = train(
            args.data,
            out,
            recipe,
            cache_dir=args.cache_dir,
            download=args.download,
            resume=args.resume,
            progress=not args.quiet,
            limit=limit,
            unlabelled=args.unlabelled,
            train_overrides=overrides,
        )
    best = max(result["history"], key=lambda r: r.get("valid_accuracy", 0.0))
    print(
        f"best valid accuracy {best['valid_accuracy']:.4f} (epoch {int(best['epoch'])}); "
        f"run saved in {out}"
    )
    for line in logger_lines(callbacks):
        print(line)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    metrics = evaluate_run(
        args.run, args.data, args.split, cache_dir=args.cache_dir, progress=not args.quiet
    )
    if args.json:
        print(json.dumps(metrics))
    else:
        print(
            f"{metrics['split']}: accuracy {metrics['accuracy']:.4f}, loss {metrics['loss']:.4f}, "
            f"count {int(metrics['count'])}, {metrics['seconds']:.1f} s"
        )
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from seqlab.sentiment.pretrain import generate

    print(
        generate(
            args.run,
            args.prompt,
            length=args.length,
            temperature=args.temperature,
            top_k=args.top_k,
            seed=args.seed,
        )
    )
    return 0


def run_predict(args: argparse.Namespace) -> int:
    for label, prob in predict_texts(args.run, args.text):
        print(f"{label}\t{prob:.3f}")
    return 0


def print_demo(path: str | Path | None = None) -> dict | None:
    """``seqlab demo``'s sentiment part: :func:`seqlab.sentiment.demo` and its summary line."""
    from seqlab.sentiment import demo

    result = demo(path)
    if result is None:
        print(
            "No IMDB data found, so no sentiment demo. Get it with "
            "'seqlab imdb train --download --out RUN' (fetches aclImdb_v1.tar.gz, 84 MB, "
            "into the cache), or point --imdb PATH / $SEQLAB_IMDB at an aclImdb folder "
            "or tarball."
        )
        return None
    best = max(result["history"], key=lambda r: r["valid_accuracy"])
    print(
        f"IMDB ({result['data']}): a bi-GRU trained {len(result['history'])} epochs on 2,000 "
        f"reviews reaches {best['valid_accuracy']:.1%} accuracy on 2,000 validation reviews "
        f"({sum(result['timings'].values()):.0f} s). The full recipe: seqlab imdb train."
    )
    return result

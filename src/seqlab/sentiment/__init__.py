"""seqlab.sentiment: the IMDB sentiment recipe, from reviews to a reloadable run folder.

``train(data, out, preset("default"))`` tokenises, builds the vocabulary and word
vectors, batches and trains a :class:`~seqlab.models.SentimentClassifier` with the
:class:`~seqlab.train.Trainer`; ``predict_texts(run, texts)`` and
``evaluate_run(run, data)`` use the run folder alone. ``seqlab imdb`` is a thin front.
"""

from seqlab.sentiment.recipe import (
    LABELS,
    MIN_LIMIT,
    MODEL_NAME,
    PIPELINE_FILE,
    PIPELINE_FORMAT,
    TRAINER_STATE_FILE,
    VALID_SPLITS,
    VOCAB_FILE,
    ImdbRecipe,
    check_resumable,
    demo,
    evaluate_run,
    load_pipeline,
    pipeline_dict,
    predict_texts,
    prepare,
    preset,
    read_pipeline_file,
    read_recipe,
    read_subset,
    recipe_from_dict,
    resumable,
    train,
)

__all__ = [
    "LABELS",
    "MIN_LIMIT",
    "MODEL_NAME",
    "PIPELINE_FILE",
    "PIPELINE_FORMAT",
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

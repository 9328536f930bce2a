"""seqlab.text: text to batches without torchtext.

Normalise and tokenise (:class:`Tokenizer`), build a :class:`Vocab`, cut and pad ids
(:func:`truncate_ids`, :func:`pad_batch`), batch by length (:class:`BucketBatches`),
split reproducibly (:func:`stratified_split`, or keeping groups such as movies apart:
:func:`grouped_split`, with each review's movie from :func:`read_movie_urls`), read IMDB
(:func:`load_imdb`, :func:`load_imdb_tokenized`) and compute in-domain word vectors
(:func:`ppmi_svd_vectors`).
The slow steps take ``progress=True`` for tqdm bars on stderr (:mod:`seqlab._progress`);
:func:`source_identity` is what data cached from a source is keyed by.
"""

import seqlab

seqlab._require("seqlab.text", "torch")

from seqlab.text.batching import (
    BucketBatches,
    grouped_split,
    pad_batch,
    stratified_split,
    truncate_ids,
)
from seqlab.text.download import download, sha256_file
from seqlab.text.imdb import (
    TextDataset,
    TokenizedDataset,
    default_cache_dir,
    download_imdb,
    find_imdb,
    load_imdb,
    load_imdb_tokenized,
    resolve_imdb,
    source_identity,
)
from seqlab.text.movies import find_movie_urls, movie_of_reviews, read_movie_urls
from seqlab.text.stream import StreamBatches, concatenate
from seqlab.text.tokenize import Tokenizer
from seqlab.text.vectors import ppmi_svd_vectors
from seqlab.text.vocab import Vocab, load_vectors

__all__ = [
    "BucketBatches",
    "StreamBatches",
    "TextDataset",
    "TokenizedDataset",
    "Tokenizer",
    "Vocab",
    "concatenate",
    "default_cache_dir",
    "download",
    "download_imdb",
    "find_imdb",
    "find_movie_urls",
    "grouped_split",
    "load_imdb",
    "load_imdb_tokenized",
    "load_vectors",
    "movie_of_reviews",
    "pad_batch",
    "ppmi_svd_vectors",
    "read_movie_urls",
    "resolve_imdb",
    "sha256_file",
    "source_identity",
    "stratified_split",
    "truncate_ids",
]

"""Word vectors from a corpus in seconds: PPMI co-occurrence + truncated SVD.

Levy, Goldberg & Dagan (2015), "Improving distributional similarity with lessons learned
from word embeddings" (TACL 3), show that a positive-PMI matrix with context-distribution
smoothing (alpha = 0.75), factored by SVD with eigenvalue weighting p = 0.5, gives
vectors on par with word2vec on similarity tasks. Here it runs on sparse matrices
(scipy.sparse) and a randomized SVD (Halko, Martinsson & Tropp 2011, algorithm 4.4 with
power iterations), which is what lets in-domain vectors for a 30-50k word vocabulary be
computed from ~20M tokens in well under a minute on two CPU cores.

Checked in tests/text/test_vectors.py: the randomized SVD against ``numpy.linalg.svd`` on
a small PPMI matrix, and the PPMI entries against a dense formula.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from seqlab._progress import bar

__all__ = ["cooccurrence", "ppmi", "ppmi_svd_vectors", "randomized_svd"]


def cooccurrence(
    sequences: Sequence[np.ndarray],
    vocab_size: int,
    window: int = 5,
    skip_ids: int = 2,
    *,
    on_step=None,
) -> sp.csr_matrix:
    """Symmetric co-occurrence counts within ``window`` tokens, weighted 1/distance.

    Ids below ``skip_ids`` (``<pad>``, ``<unk>``) neither count nor are counted; windows
    never cross document boundaries. Returns a ``(vocab_size, vocab_size)`` float64 CSR.
    ``on_step``, when given, is called with no argument after each of the ``window``
    distances is counted (a progress hook).
    """
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive int, got {window!r}.")
    gap = np.full(window, -1, dtype=np.int64)
    pieces = []
    for seq in sequences:
        pieces.append(np.asarray(seq, dtype=np.int64))
        pieces.append(gap)
    flat = np.concatenate(pieces) if pieces else gap
    if flat.size and flat.max() >= vocab_size:
        raise ValueError(f"an id {flat.max()} is outside the vocabulary of {vocab_size}.")
    flat = np.where(flat < skip_ids, -1, flat)
    total = sp.csr_matrix((vocab_size, vocab_size), dtype=np.float64)
    for distance in range(1, window + 1):
        left, right = flat[:-distance], flat[distance:]
        keep = (left >= 0) & (right >= 0)
        rows, cols = left[keep], right[keep]
        weights = np.full(rows.size, 1.0 / distance)
        total = total + sp.csr_matrix(
            (weights, (rows, cols)), shape=(vocab_size, vocab_size), dtype=np.float64
        )
        if on_step is not None:
            on_step()
    return (total + total.T).tocsr()


def ppmi(counts: sp.spmatrix, alpha: float = 0.75) -> sp.csr_matrix:
    """Positive PMI with context smoothing: ``max(0, log(P(w,c) / (P(w) P_alpha(c))))``.

    ``P(w,c) = n_wc / N``, ``P(w) = n_w / N`` and ``P_alpha(c) = n_c^alpha / sum n^alpha``
    (Levy et al. 2015, eq. 3). Zero counts stay zero (PMI = -inf clipped at 0).
    """
    counts = sp.csr_matrix(counts, dtype=np.float64)
    row = np.asarray(counts.sum(axis=1)).ravel()
    col = np.asarray(counts.sum(axis=0)).ravel() ** alpha
    col_total = col.sum()
    coo = counts.tocoo()
    # log(n_wc / N) - log(n_w / N) - log(n_c^alpha / sum n^alpha); every n_wc here is > 0.
    values = np.log(coo.data / row[coo.row]) - np.log(col[coo.col] / col_total)
    keep = values > 0
    return sp.csr_matrix(
        (values[keep], (coo.row[keep], coo.col[keep])), shape=counts.shape, dtype=np.float64
    )


def randomized_svd(
    matrix: sp.spmatrix | np.ndarray,
    rank: int,
    oversample: int = 10,
    power_iterations: int = 3,
    seed: int = 0,
    *,
    on_step=None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leading ``rank`` singular triplets ``(U, S, Vt)`` by a randomized range finder.

    Halko, Martinsson & Tropp (2011), "Finding structure with randomness", algorithms 4.4
    (subspace iteration, re-orthonormalised each step) and 5.1. Deterministic for a seed.
    ``on_step``, when given, is called with no argument after the range finder and after
    each power iteration (a progress hook).
    """
    n_rows, n_cols = matrix.shape
    size = min(rank + oversample, n_rows, n_cols)
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(matrix @ rng.standard_normal((n_cols, size)))
    if on_step is not None:
        on_step()
    for _ in range(power_iterations):
        basis_t, _ = np.linalg.qr(matrix.T @ basis)
        basis, _ = np.linalg.qr(matrix @ basis_t)
        if on_step is not None:
            on_step()
    small = np.asarray((matrix.T @ basis).T)  # (size, n_cols) = Q^T A
    u_small, singular, vt = np.linalg.svd(small, full_matrices=False)
    return (basis @ u_small)[:, :rank], singular[:rank], vt[:rank]


def ppmi_svd_vectors(
    sequences: Sequence[np.ndarray],
    vocab_size: int,
    dim: int = 100,
    *,
    window: int = 5,
    alpha: float = 0.75,
    eigen_weight: float = 0.5,
    power_iterations: int = 3,
    seed: int = 0,
    progress: bool = False,
) -> np.ndarray:
    """``(vocab_size, dim)`` float32 word vectors: ``U_d * S_d^eigen_weight`` of the PPMI.

    Rows are scaled to unit mean norm; rows of ids with no co-occurrences (specials,
    unseen words) are zero. See the module docstring for the method and references.
    ``progress`` shows a tqdm bar on stderr (co-occurrence distances, PPMI, SVD steps)
    when the computation takes more than a moment.
    """
    if not isinstance(dim, int) or not 0 < dim < vocab_size:
        raise ValueError(f"dim must be an int in [1, vocab_size), got {dim!r}.")
    steps = window + 1 + 1 + power_iterations
    with bar(progress, "word vectors (PPMI-SVD)", total=steps, unit=" steps") as counter:
        step = counter.update
        matrix = ppmi(cooccurrence(sequences, vocab_size, window, on_step=step), alpha)
        step()
        left, singular, _ = randomized_svd(
            matrix, dim, power_iterations=power_iterations, seed=seed, on_step=step
        )
    vectors = left * singular**eigen_weight
    vectors[np.diff(matrix.indptr) == 0] = 0.0  # rounding noise, not information
    norms = np.linalg.norm(vectors, axis=1)
    mean_norm = norms[norms > 0].mean() if (norms > 0).any() else 1.0
    return (vectors / mean_norm).astype(np.float32)

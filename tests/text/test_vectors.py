import numpy as np
import scipy.sparse as sp

from seqlab.text.vectors import cooccurrence, ppmi, ppmi_svd_vectors, randomized_svd


def test_cooccurrence_weights_by_distance_and_stops_at_documents():
    counts = cooccurrence([np.array([2, 3, 4]), np.array([5, 2])], vocab_size=6, window=2)
    dense = counts.toarray()
    assert dense[2, 3] == dense[3, 2] == 1.0  # adjacent
    assert dense[2, 4] == 0.5  # two apart
    assert dense[4, 5] == 0.0  # different documents
    assert dense[5, 2] == 1.0
    np.testing.assert_array_equal(dense[:2], 0)  # <pad> and <unk> never count


def test_ppmi_matches_the_dense_formula():
    rng = np.random.default_rng(0)
    dense = rng.poisson(1.0, size=(6, 6)).astype(float)
    result = ppmi(sp.csr_matrix(dense), alpha=0.75).toarray()
    total = dense.sum()
    p_wc = dense / total
    p_w = dense.sum(1, keepdims=True) / total
    ctx = dense.sum(0, keepdims=True) ** 0.75
    with np.errstate(divide="ignore"):
        expected = np.maximum(np.log(p_wc / (p_w * ctx / ctx.sum())), 0)
    np.testing.assert_allclose(result, expected, rtol=1e-12)


def test_randomized_svd_matches_numpy_on_a_low_rank_matrix():
    rng = np.random.default_rng(1)
    matrix = rng.normal(size=(80, 5)) @ np.diag([9, 7, 5, 3, 1]) @ rng.normal(size=(5, 60))
    u, s, vt = randomized_svd(sp.csr_matrix(matrix), 5, seed=0)
    s_ref = np.linalg.svd(matrix, compute_uv=False)[:5]
    # Exact rank 5: the range finder captures it fully, so agreement is to rounding.
    np.testing.assert_allclose(s, s_ref, rtol=1e-8)
    np.testing.assert_allclose((u * s) @ vt, matrix, atol=1e-8)


def test_vectors_put_words_from_the_same_contexts_together():
    rng = np.random.default_rng(0)
    # ids 2,3 appear between 10..14; ids 4,5 between 15..19
    docs = []
    for _ in range(400):
        a = rng.integers(10, 15, size=2)
        b = rng.integers(15, 20, size=2)
        docs.append(np.array([a[0], rng.choice([2, 3]), a[1]]))
        docs.append(np.array([b[0], rng.choice([4, 5]), b[1]]))
    vectors = ppmi_svd_vectors(docs, 20, dim=4, window=1)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    assert unit[2] @ unit[3] > 0.9 > unit[2] @ unit[4]
    assert vectors.dtype == np.float32 and np.all(vectors[:2] == 0)


def test_progress_bar_has_a_step_per_stage_and_changes_nothing(capsys, monkeypatch):
    import seqlab._progress as progress_module

    monkeypatch.setattr(progress_module, "PROGRESS_DELAY_S", 0.0)
    rng = np.random.default_rng(0)
    docs = [rng.integers(2, 40, size=30) for _ in range(50)]
    quiet = ppmi_svd_vectors(docs, 40, 8, window=3, power_iterations=2)
    assert capsys.readouterr().err == ""
    shown = ppmi_svd_vectors(docs, 40, 8, window=3, power_iterations=2, progress=True)
    err = capsys.readouterr().err
    # 7 steps: 3 window distances, PPMI, the range finder, 2 power iterations
    assert "word vectors (PPMI-SVD)" in err and "0/7" in err
    np.testing.assert_array_equal(shown, quiet)

"""``seqlab forecast cv``: cross-validation of local and global models on a long CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqlab.cli import main
from seqlab.forecast import Forecasts, SeasonalNaive, evaluate


@pytest.fixture
def long_csv(tmp_path):
    rng = np.random.default_rng(3)
    parts = []
    for k, uid in enumerate(["north", "south", "east"]):
        t = np.arange(36 + 6 * k)
        parts.append(
            pd.DataFrame(
                {
                    "store": uid,
                    "month": pd.date_range("2019-01-01", periods=t.size, freq="MS").strftime(
                        "%Y-%m-%d"
                    ),
                    "sales": 50 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, t.size),
                }
            )
        )
    path = tmp_path / "sales.csv"
    pd.concat(parts).to_csv(path, index=False)
    return path


def _argv(long_csv, *extra):
    return [
        "forecast", "cv", str(long_csv), "--id-col", "store", "--time-col", "month",
        "--value", "sales", "--h", "3", "--windows", "2", "--m", "12", "--no-progress", *extra,
    ]  # fmt: skip


def test_cv_prints_the_mean_table_and_writes_the_frame(long_csv, tmp_path, capsys):
    out = tmp_path / "cv.csv"
    argv = _argv(long_csv, "--models", "snaive,naive,mean", "--level", "80,95", "--out", str(out))
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("3 series, 2 window(s) of h=3; mean over series")
    assert lines[1].split() == ["metric", "snaive", "naive", "mean"]
    metrics = [line.split()[0] for line in lines[2:-1]]
    assert metrics == ["mae", "rmse", "smape", "mase"] + [
        f"{m}-{lv}" for m in ("coverage", "width") for lv in (80, 95)
    ]
    assert lines[-1] == f"wrote {out}"

    cv = pd.read_csv(out)
    assert list(cv.columns[:4]) == ["store", "month", "cutoff", "sales"]
    for model in ("snaive", "naive", "mean"):
        for lv in (80, 95):
            assert {f"{model}-lo-{lv}", f"{model}-hi-{lv}"} <= set(cv.columns)
    assert len(cv) == 3 * 2 * 3
    assert cv.groupby("store")["cutoff"].nunique().eq(2).all()

    # The printed figures are the library's: Forecasts.cross_validation and evaluate.
    frame = pd.read_csv(long_csv).rename(columns={"store": "unique_id", "month": "ds"})
    frame = frame.rename(columns={"sales": "y"}).assign(ds=lambda f: pd.to_datetime(f["ds"]))
    ref_cv = Forecasts({"snaive": SeasonalNaive(12)}, progress=False).cross_validation(
        frame, 3, n_windows=2, level=[80, 95]
    )
    ref = evaluate(ref_cv, train_df=frame, season_length=12, agg="mean").set_index("metric")
    printed = {line.split()[0]: float(line.split()[1]) for line in lines[2:-1]}
    for metric, value in printed.items():
        assert value == pytest.approx(ref.loc[metric, "snaive"], rel=1e-3)


def test_cv_with_auto_arima_and_no_levels(long_csv, capsys):
    assert main(_argv(long_csv, "--models", "auto_arima,snaive")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["metric", "auto_arima", "snaive"]
    assert [line.split()[0] for line in lines[2:]] == ["mae", "rmse", "smape", "mase"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--models", "prophet"], "--models: unknown model 'prophet'"),
        (["--level", "0.8"], "Did you mean 80?"),
        (["--windows", "20"], "series 'north' has 36 rows"),
    ],
)
def test_cv_user_errors_are_one_line(long_csv, capsys, extra, message):
    assert main(_argv(long_csv, *extra)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("seqlab: error: ") and message in err[0]


def test_cv_names_a_missing_column(long_csv, capsys):
    argv = ["forecast", "cv", str(long_csv), "--h", "3", "--models", "naive"]
    assert main(argv) == 2
    assert "lacks the column(s) ['unique_id', 'ds', 'y']" in capsys.readouterr().err


def test_cv_process_backend_prints_the_serial_table(long_csv, capsys):
    tables = []
    for backend in ("serial", "process"):
        argv = _argv(long_csv, "--models", "snaive,drift", "--level", "90")
        assert main([*argv, "--backend", backend, "--n-jobs", "2"]) == 0
        tables.append(capsys.readouterr().out)
    assert tables[0] == tables[1]


def test_cv_with_a_global_recurrent_model(long_csv, tmp_path, capsys):
    pytest.importorskip("torch")
    from seqlab.forecast import GlobalRecurrentForecaster

    out = tmp_path / "cv.csv"
    tiny = ["--epochs", "2", "--hidden", "4", "--lookback", "6", "--seed", "1"]
    argv = _argv(long_csv, "--models", "snaive,global-gru", "--level", "80", *tiny)
    assert main([*argv, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["metric", "snaive", "global-gru"]
    cv = pd.read_csv(out)
    assert len(cv) == 3 * 2 * 3
    assert {"global-gru", "global-gru-lo-80", "global-gru-hi-80"} <= set(cv.columns)
    assert (cv["global-gru-lo-80"] <= cv["global-gru"]).all()

    # The CLI's model is the documented one: a GRU with direct 3-step output and the
    # hold-out that gives 80 % intervals 4 errors at step 3 over 3 series (3 - 1 + 2 rows).
    frame = pd.read_csv(long_csv).rename(columns={"store": "unique_id", "month": "ds"})
    frame = frame.rename(columns={"sales": "y"}).assign(ds=lambda f: pd.to_datetime(f["ds"]))
    model = GlobalRecurrentForecaster(
        "gru", lookback=6, horizon=3, hidden_size=4, epochs=2, seed=1, valid_size=4
    )
    ref = Forecasts({"global-gru": model}, progress=False).cross_validation(
        frame, 3, n_windows=2, level=[80]
    )
    np.testing.assert_allclose(cv["global-gru"], ref["global-gru"], rtol=1e-9)


def test_cv_names_the_global_models_when_one_is_unknown(long_csv, capsys):
    assert main(_argv(long_csv, "--models", "global-transformer")) == 2
    err = capsys.readouterr().err
    assert "unknown model 'global-transformer'" in err and "global-gru" in err


def test_cv_gives_the_global_ensemble_the_season_length_m(long_csv, tmp_path, capsys):
    # Without --lookback, "global" is the window-normalised ensemble, whose lookbacks
    # and seasonal levels follow season_length: --m 12 must reach it. The reference,
    # built by hand with season_length=12, gives the same forecasts (one built without
    # it has lookbacks 4, 6, 9 instead of 18, 24, 36 and other forecasts).
    pytest.importorskip("torch")
    from seqlab.forecast import GlobalRecurrentForecaster

    out = tmp_path / "cv.csv"
    tiny = ["--epochs", "1", "--hidden", "4", "--seed", "1", "--valid-size", "3"]
    assert main([*_argv(long_csv, "--models", "global", *tiny), "--out", str(out)]) == 0
    capsys.readouterr()
    cv = pd.read_csv(out)
    frame = pd.read_csv(long_csv).rename(columns={"store": "unique_id", "month": "ds"})
    frame = frame.rename(columns={"sales": "y"}).assign(ds=lambda f: pd.to_datetime(f["ds"]))
    model = GlobalRecurrentForecaster(
        horizon=3, season_length=12, hidden_size=4, epochs=1, seed=1, valid_size=3
    )
    assert model.config.normalize == "window" and model.lookbacks_for(100) == (18, 24, 36)
    ref = Forecasts({"global": model}, progress=False).cross_validation(frame, 3, n_windows=2)
    np.testing.assert_allclose(cv["global"], ref["global"], rtol=1e-9)


def test_cv_with_the_global_hybrids(long_csv, capsys):
    # auto ARIMA per store averaged with the global network (global-hybrid) or plus the
    # network on its residuals (global-hybrid-residuals), the CLI's flags reaching it.
    pytest.importorskip("torch")
    from seqlab.forecast import AutoArimaForecaster, GlobalHybridForecaster
    from seqlab.forecast.neural import GlobalRecurrentForecaster

    tiny = ["--epochs", "2", "--hidden", "4", "--seed", "1"]
    out = long_csv.parent / "cv_hybrid.csv"
    names = ["auto_arima", "global", "global-hybrid", "global-hybrid-residuals"]
    assert main([*_argv(long_csv, "--models", ",".join(names), *tiny), "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == ["metric", *names]
    got = pd.read_csv(out)
    # The mean is that of the two models the same run fitted on their own.
    np.testing.assert_allclose(
        got["global-hybrid"], (got["auto_arima"] + got["global"]) / 2, rtol=1e-9
    )
    # The residual form built by hand gives the same forecasts.
    frame = pd.read_csv(long_csv).rename(columns={"store": "unique_id", "month": "ds"})
    frame = frame.rename(columns={"sales": "y"}).assign(ds=lambda f: pd.to_datetime(f["ds"]))
    network = GlobalRecurrentForecaster(
        horizon=3, season_length=12, hidden_size=4, epochs=2, seed=1, valid_size=3
    )
    model = GlobalHybridForecaster(
        horizon=3,
        season_length=12,
        arima=AutoArimaForecaster(m=12),
        network=network,
        how="residuals",
        calibrate=False,
        backend="serial",
    )
    ref = Forecasts({"h": model}, progress=False).cross_validation(frame, 3, n_windows=2)
    np.testing.assert_allclose(got["global-hybrid-residuals"], ref["h"], rtol=1e-9)

    # Three stores give three calibration errors per step: an 80 % interval needs four.
    assert main(_argv(long_csv, "--models", "global-hybrid", "--level", "80", *tiny)) == 2
    err = capsys.readouterr().err
    assert "needs at least 4 calibration errors per step" in err and "Give more series" in err

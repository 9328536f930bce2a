"""seqlab.ts: classical time series (stationarity, transforms, ARIMA family, many series)."""

from seqlab.ts.arima import AR, ARIMA, ARMA, MA, ARIMAForecast, ARIMAResult, CSSStartError
from seqlab.ts.auto import AutoARIMAConfig, AutoARIMAResult, auto_arima
from seqlab.ts.many import ManyResult, fit_many
from seqlab.ts.seasonality import (
    OCSBResult,
    STLResult,
    ndiffs,
    nsdiffs,
    ocsb_test,
    seasonal_strength,
    stl,
)
from seqlab.ts.stationarity import (
    ADFResult,
    KPSSResult,
    StationarityReport,
    adf_test,
    check_stationarity,
    kpss_test,
    rolling_stats,
)
from seqlab.ts.stattools import LjungBoxResult, acf, ljung_box, pacf
from seqlab.ts.transforms import (
    BoxCoxResult,
    boxcox,
    boxcox_lambda,
    difference,
    inv_boxcox,
    undifference,
)

__all__ = [
    "AR",
    "ARIMA",
    "ARMA",
    "MA",
    "ADFResult",
    "ARIMAForecast",
    "ARIMAResult",
    "AutoARIMAConfig",
    "AutoARIMAResult",
    "BoxCoxResult",
    "CSSStartError",
    "KPSSResult",
    "LjungBoxResult",
    "ManyResult",
    "OCSBResult",
    "STLResult",
    "StationarityReport",
    "acf",
    "adf_test",
    "auto_arima",
    "boxcox",
    "boxcox_lambda",
    "check_stationarity",
    "difference",
    "fit_many",
    "inv_boxcox",
    "kpss_test",
    "ljung_box",
    "ndiffs",
    "nsdiffs",
    "ocsb_test",
    "pacf",
    "rolling_stats",
    "seasonal_strength",
    "stl",
    "undifference",
]

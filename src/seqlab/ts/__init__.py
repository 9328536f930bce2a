"""seqlab.ts (exports are added by each module's author as the module lands)."""

from seqlab.ts.stationarity import ADFResult as ADFResult
from seqlab.ts.stationarity import KPSSResult as KPSSResult
from seqlab.ts.stationarity import StationarityReport as StationarityReport
from seqlab.ts.stationarity import adf_test as adf_test
from seqlab.ts.stationarity import check_stationarity as check_stationarity
from seqlab.ts.stationarity import kpss_test as kpss_test
from seqlab.ts.stationarity import rolling_stats as rolling_stats
from seqlab.ts.arima import AR as AR
from seqlab.ts.arima import ARIMA as ARIMA
from seqlab.ts.arima import ARMA as ARMA
from seqlab.ts.arima import MA as MA
from seqlab.ts.arima import ARIMAForecast as ARIMAForecast
from seqlab.ts.arima import ARIMAResult as ARIMAResult
from seqlab.ts.seasonality import OCSBResult as OCSBResult
from seqlab.ts.seasonality import STLResult as STLResult
from seqlab.ts.seasonality import ndiffs as ndiffs
from seqlab.ts.seasonality import nsdiffs as nsdiffs
from seqlab.ts.seasonality import ocsb_test as ocsb_test
from seqlab.ts.seasonality import seasonal_strength as seasonal_strength
from seqlab.ts.seasonality import stl as stl

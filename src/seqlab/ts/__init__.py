"""seqlab.ts (exports are added by each module's author as the module lands)."""

from seqlab.ts.stationarity import ADFResult as ADFResult
from seqlab.ts.stationarity import KPSSResult as KPSSResult
from seqlab.ts.stationarity import StationarityReport as StationarityReport
from seqlab.ts.stationarity import adf_test as adf_test
from seqlab.ts.stationarity import check_stationarity as check_stationarity
from seqlab.ts.stationarity import kpss_test as kpss_test
from seqlab.ts.stationarity import rolling_stats as rolling_stats

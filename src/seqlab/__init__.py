"""seqlab: sequence models you can read.

Sub-packages, lowest first (a lower one never imports a higher one):

- ``seqlab.ts``: classical time series (stationarity, ARIMA family), numpy/scipy only.
- ``seqlab.nn``: recurrent cells and layers in torch, parameter-compatible with torch.nn.
- ``seqlab.text``: tokenising, vocabularies, batching, IMDB loading.
- ``seqlab.forecast``: windows, scalers, neural forecasters, backtests.
- ``seqlab.models``: task models built from ``seqlab.nn``.
- ``seqlab.train``: the one Trainer.
- ``seqlab.plot``: every figure; ``seqlab.cli``: the ``seqlab`` command.
"""

__version__ = "0.1.0"

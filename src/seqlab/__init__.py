"""seqlab: sequence models you can read.

Layers, lowest first; a module imports only from its own layer or a lower one
(``tests/test_layering.py`` checks every import statement):

0. utilities: ``seqlab._validation``, ``seqlab.io``, ``seqlab.plot``, ``seqlab.datasets``;
1. ``seqlab.ts`` (classical time series, numpy/scipy, never torch) and ``seqlab.nn``
   (recurrent cells and layers in torch, parameter-compatible with torch.nn);
2. ``seqlab.text`` (tokenising, vocabularies, batching, IMDB loading) and
   ``seqlab.models`` (task models built from ``seqlab.nn``);
3. ``seqlab.train``: the one Trainer;
4. ``seqlab.forecast`` (forecasters, backtests, metrics) and ``seqlab.sentiment`` (the
   IMDB recipes);
5. ``seqlab.cli``: the ``seqlab`` command.
"""

__version__ = "0.1.0"

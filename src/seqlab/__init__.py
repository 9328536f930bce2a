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

__all__ = [
    "TORCH_EXTRA",
    "__version__",
]

__version__ = "0.1.0"

# The optional dependencies behind the recurrent family, text, training and the IMDB recipes.
TORCH_EXTRA = "pip install 'seqlab[torch]'"


def _require(part: str, *modules: str) -> None:
    """Import ``modules``, or raise one ImportError naming the extra that provides them.

    Called first by the packages that need torch (``seqlab.nn``, ``seqlab.text``,
    ``seqlab.models``, ``seqlab.train``), which ``pip install seqlab`` leaves out.

    Raises
    ------
    ImportError
        When one of ``modules`` is not installed; its ``name`` is the missing module and
        its message ``"<part> needs <module>, which the core install leaves out: pip
        install 'seqlab[torch]'"``.
    """
    import importlib

    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            missing = (exc.name or module).split(".")[0]
            raise ImportError(
                f"{part} needs {missing}, which the core install leaves out: {TORCH_EXTRA}",
                name=missing,
            ) from exc

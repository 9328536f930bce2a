"""The flags every ``ts`` and ``forecast`` command spells the same way.

``--h`` (horizon), ``--level`` (interval levels in percent), ``--freq``, ``--value``
(the column to forecast), ``--id-col``, ``--time-col``, ``--out`` (outputs) and
``--models`` (model lists only). Older spellings stay accepted as hidden aliases
(:func:`add_alias`): they are left out of ``--help`` and log one deprecation note per
process the first time they are used.
"""

from __future__ import annotations

import argparse
import logging

logger = logging.getLogger("seqlab.cli")

_NOTED: set[str] = set()


def int_tuple(count: int, what: str):
    """An argparse ``type`` reading ``count`` comma-separated integers, e.g. ``1,1,0``.

    The returned callable raises :class:`argparse.ArgumentTypeError` naming ``what``
    and the text when the text is not exactly ``count`` integers.
    """

    def parse(text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(p) for p in text.split(","))
        except ValueError:
            values = ()
        if len(values) != count:
            raise argparse.ArgumentTypeError(
                f"{what} must be {count} comma-separated integers, got {text!r}"
            )
        return values

    return parse


def _level_values(text: str) -> list[float]:
    try:
        return [float(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--level takes percentages such as 80 or 80,95, got {text!r}"
        ) from None


def add_level(parser: argparse.ArgumentParser, default: tuple = ()) -> None:
    """``--level``: repeatable, or a comma list of percentages (read with :func:`levels`)."""
    shown = ",".join(str(v) for v in default) if default else "none"
    parser.add_argument(
        "--level",
        action="extend",
        type=_level_values,
        default=None,
        metavar="PCT",
        help=f"interval levels in percent, e.g. 80,95 or repeated (default: {shown})",
    )
    parser.set_defaults(level_default=tuple(default))


def levels(args: argparse.Namespace) -> tuple:
    """The ``--level`` values checked by :func:`seqlab._validation.check_levels`.

    Raises
    ------
    ValueError
        A level outside ``[1, 100)``; 0.95 is refused with "did you mean 95?".
    """
    from seqlab._validation import check_levels

    given = args.level if args.level is not None else getattr(args, "level_default", ())
    try:
        return check_levels(list(given))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"--level: {exc}") from None


def note_once(key: str, message: str) -> None:
    """Log ``message`` as a warning the first time ``key`` is noted in this process."""
    if key not in _NOTED:
        _NOTED.add(key)
        logger.warning("%s", message)


class _Deprecated(argparse.Action):
    """Store like the new option, noting once per process that the spelling is old."""

    def __init__(self, option_strings, dest, new: str, inner: str = "store", **kwargs):
        self.new = new
        self.inner = inner
        if inner == "store_true":
            kwargs["nargs"] = 0
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        note_once(option_string, f"{option_string} is deprecated; use {self.new}")
        setattr(namespace, self.dest, True if self.inner == "store_true" else values)


def add_alias(parser: argparse.ArgumentParser, old: str, new: str, dest: str, **kwargs) -> None:
    """Accept ``old`` as a hidden spelling of ``new`` (same ``dest``; not in ``--help``)."""
    parser.add_argument(
        old, dest=dest, action=_Deprecated, new=new, help=argparse.SUPPRESS, **kwargs
    )


#: How to give the step of the forecast dates, in the command line's terms.
FREQ_HINT = "pass --freq (e.g. --freq B for business days, D, W, MS)"


def add_freq(parser: argparse.ArgumentParser) -> None:
    """``--freq``: the pandas frequency that dates the forecasts (read by
    :func:`forecast_dates`)."""
    parser.add_argument(
        "--freq",
        help="pandas frequency of the dates, for the forecast dates when it cannot be "
        "inferred (e.g. B for trading days, D, W, MS)",
    )


def forecast_dates(args: argparse.Namespace, index, h: int):
    """The ``h`` dates after the last of ``index`` (a file's dates), None without dates.

    The step is ``args.freq`` when given (the file's dates need not follow it: trading
    days with holidays are forecast on business days with ``--freq B``), else the one
    pandas infers from the dates.

    Raises
    ------
    ValueError
        One line naming ``args.file``: the dates have no inferable frequency and no
        ``--freq`` was given (it says to pass one), ``--freq`` is not a pandas
        frequency, or ``--freq`` is given for a file without dates.
    """
    import pandas as pd

    from seqlab._validation import check_freq, future_index

    freq = getattr(args, "freq", None)
    try:
        check_freq(freq)
    except ValueError:
        raise ValueError(
            f"--freq {freq}: not a pandas frequency (e.g. B, D, W, MS, QS, YS)."
        ) from None
    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        if freq is not None:
            raise ValueError(f"{args.file}: --freq {freq} needs a date column; the file has none.")
        return None
    try:
        return future_index(index, h, freq, hint=FREQ_HINT)
    except ValueError as exc:
        message = str(exc).replace(f"freq={freq!r}", f"--freq {freq}")
        raise ValueError(f"{args.file}, column {index.name!r}: {message}") from None


def require(args: argparse.Namespace, dest: str, flag: str) -> None:
    """Raise ValueError ``"flag is required"`` when ``args.<dest>`` was not given."""
    if getattr(args, dest, None) is None:
        raise ValueError(f"{flag} is required.")

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


class _Deprecated(argparse.Action):
    """Store like the new option, noting once per process that the spelling is old."""

    def __init__(self, option_strings, dest, new: str, inner: str = "store", **kwargs):
        self.new = new
        self.inner = inner
        if inner == "store_true":
            kwargs["nargs"] = 0
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        if option_string not in _NOTED:
            _NOTED.add(option_string)
            logger.warning("%s is deprecated; use %s", option_string, self.new)
        setattr(namespace, self.dest, True if self.inner == "store_true" else values)


def add_alias(parser: argparse.ArgumentParser, old: str, new: str, dest: str, **kwargs) -> None:
    """Accept ``old`` as a hidden spelling of ``new`` (same ``dest``; not in ``--help``)."""
    parser.add_argument(
        old, dest=dest, action=_Deprecated, new=new, help=argparse.SUPPRESS, **kwargs
    )


def require(args: argparse.Namespace, dest: str, flag: str) -> None:
    """Raise ValueError ``"flag is required"`` when ``args.<dest>`` was not given."""
    if getattr(args, dest, None) is None:
        raise ValueError(f"{flag} is required.")

"""Checks for every value read from a run folder's JSON files: see :mod:`seqlab._schema`.

The readers live below every sub-package so that the torch-free part (``seqlab.ts``'s
ARIMA run folders) checks its files with the same rules; this module keeps the name
that the training and forecasting run folders import.
"""

from seqlab._schema import (
    MAX_JSON_BYTES,
    expect_bool,
    expect_choice,
    expect_float,
    expect_float_list,
    expect_int,
    expect_keys,
    expect_object,
    expect_str_list,
    read_json_file,
)

__all__ = [
    "MAX_JSON_BYTES",
    "expect_bool",
    "expect_choice",
    "expect_float",
    "expect_float_list",
    "expect_int",
    "expect_keys",
    "expect_object",
    "expect_str_list",
    "read_json_file",
]

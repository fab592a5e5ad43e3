"""Label values as normalised text, computed once per distinct value instead of once per row.

A label column of a million rows holds a handful of distinct values: `distinct_text` turns the
distinct values into text (`str`, stripped, optionally lower-cased) and maps them back to the
rows by their codes. It groups values only where equal values are sure to give equal text
(booleans, integers, floats without a negative zero, text); for any other column it returns
None and the caller normalises row by row, so the result is the same either way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import (
    infer_dtype,
    is_bool_dtype,
    is_float_dtype,
    is_integer_dtype,
    is_object_dtype,
    is_string_dtype,
)

__all__ = ["distinct_text", "row_text"]


def row_text(values: pd.Series, *, lower: bool) -> pd.Series:
    """Every row's value as stripped (and optionally lower-cased) text: the reference."""
    text = values.astype(str).str.strip()
    return text.str.lower() if lower else text


def distinct_text(values: pd.Series, *, lower: bool) -> tuple[np.ndarray, pd.Series] | None:
    """Codes per row and the normalised text of each code, or None (normalise per row).

    `values` holds no missing value. `uniques.to_numpy()[codes]` equals
    `row_text(values, lower=lower).to_numpy()`.
    """
    if not _groups_by_text(values):
        return None
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(codes) and int(codes.min()) < 0:
        return None  # a missing value: the caller refuses those first
    return codes, row_text(pd.Series(uniques), lower=lower)


def _groups_by_text(values: pd.Series) -> bool:
    """Whether values that factorize as equal always have the same `str`."""
    dtype = values.dtype
    if is_bool_dtype(dtype) or is_integer_dtype(dtype):
        return not isinstance(dtype, pd.CategoricalDtype)
    if is_float_dtype(dtype):
        # 0.0 and -0.0 are equal but print differently.
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        return not bool((np.signbit(numbers) & (numbers == 0)).any())
    if is_string_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        if not is_object_dtype(dtype):
            return True
        # An object column counts only when every value is a plain str (a subclass may print
        # otherwise); infer_dtype refuses most other columns without a Python loop.
        return infer_dtype(values, skipna=False) == "string" and all(
            type(value) is str for value in values.to_numpy()
        )
    return False

"""The HTML table that results show as in a notebook (a search's `History`, a one-shot search's epochs)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

#: Columns drawn as code, left-aligned (graph strings and fidelities).
CODE_COLUMNS = ("arch", "derived", "fidelity")
#: Columns of text, left-aligned.
TEXT_COLUMNS = ("status",)


def _cell(key: str, value: Any) -> str:
    if isinstance(value, float):
        text = "" if math.isnan(value) else f"{value:{'.3g' if key == 'seconds' else '.4g'}}"
    else:
        text = "" if value is None else str(value)
    left = key in CODE_COLUMNS or key in TEXT_COLUMNS
    text = f"<code>{html.escape(text)}</code>" if key in CODE_COLUMNS and value is not None else html.escape(text)
    return f'<td style="text-align:{"left" if left else "right"}">{text}</td>'


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], caption: str, *, bold: int | None = None,
          max_rows: int = 40, title_key: str | None = None) -> str:
    """An HTML table of ``rows`` (dicts) showing ``columns``: the first and last ``max_rows // 2`` rows when there
    are more, row number ``bold`` in bold, and each row's ``title_key`` value (e.g. an error) as its tooltip."""
    numbered: list[tuple[int, dict[str, Any]] | None] = list(enumerate(rows))
    if len(rows) > max_rows:
        half = max_rows // 2
        numbered = [*numbered[:half], None, *numbered[-half:]]
    body = []
    for item in numbered:
        if item is None:
            body.append(f'<tr><td colspan="{len(columns)}" style="text-align:center">'
                        f"… {len(rows) - 2 * (max_rows // 2)} more …</td></tr>")
            continue
        i, row = item
        style = ' style="font-weight:bold"' if i == bold else ""
        tip = row.get(title_key) if title_key else None
        title = f' title="{html.escape(str(tip))}"' if tip else ""
        body.append(f"<tr{style}{title}>" + "".join(_cell(k, row.get(k)) for k in columns) + "</tr>")
    head = "".join(f"<th>{html.escape(k)}</th>" for k in columns)
    return (f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def to_pandas(rows: Sequence[dict[str, Any]], index: str, what: str) -> Any:
    """``rows`` as a ``pandas.DataFrame`` indexed by ``index``; ``what`` names the caller in the ImportError."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(f"{what}.to_pandas needs pandas, which is not installed: pip install pandas "
                          f"(or use {what}.rows(), a list of dicts)") from None
    frame = pd.DataFrame(list(rows))
    return frame.set_index(index) if len(frame) else frame


def new_axes(ax: Any, what: str) -> Any:
    """``ax``, or a new pyplot figure's axes; ImportError naming ``what`` when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(f"{what} needs matplotlib, which is not installed: pip install matplotlib") from None
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 3.6))
    return ax

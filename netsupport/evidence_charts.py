"""Charts of the evidence checks (issue 15): input coverage and the time-series model of attention.

Same conventions as :mod:`netsupport.charts` (Agg canvas, fixed style, no dates in the files).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from .charts import (
    DARK,
    GREY,
    _date_axis,
    _figure,
    _naive,
    _no_data,
    _shade_crisis,
    _style,
    _titles,
    bin_width,
)
from .schema import Window

__all__ = ["attention_model_chart", "coverage_timeline"]

_BAR = "#0072B2"
_WARN = "#D55E00"
_WINDOW_SHADES = {"baseline": "#E8EEF4", "after": "#EFEFEF"}


def coverage_timeline(record: Mapping[str, Any], windows: Any) -> Figure:
    """Draw one bar per input from its first to its last row, over the shaded windows.

    Inputs without times (follower lists, account files) are listed with "no times". A bar that
    covers only part of a window is drawn in orange. The declared windows are outlined; where
    the data do not span them, the cut part is hatched.
    """
    inputs = list(record.get("inputs") or [])
    with _style():
        fig = _figure((10.0, 1.6 + 0.45 * max(1, len(inputs))))
        ax = fig.add_subplot()
        # the file names left of the axes take room from the subtitle above them
        longest = max((len(str(r.get("file") or "")) for r in inputs), default=0)
        _titles(
            fig,
            "What the inputs cover",
            "Bars: first to last row of each input (orange: part of a window only). Shading: "
            "the windows measured; hatched: declared, not covered.",
            ax,
            width=max(50, 120 - round(1.1 * longest)),
        )
        if not inputs:
            _no_data(ax, "No input files recorded")
            return fig
        for w, colour in _WINDOW_SHADES.items():
            s, e = windows.bounds(Window(w))
            ax.axvspan(_naive(s), _naive(e), color=colour, lw=0, zorder=0)
        _shade_crisis(ax, windows, label=False)
        declared = record.get("declared") or {}
        for cut in record.get("cut") or []:
            a, b = sorted([pd.Timestamp(cut["declared"]), pd.Timestamp(cut["used"])])
            ax.axvspan(_naive(a), _naive(b), facecolor="none", edgecolor=GREY, hatch="//", lw=0)
        if declared:
            for key in ("baseline_start", "after_end"):
                ax.axvline(_naive(declared[key]), color=GREY, lw=1, ls="--", zorder=1)
        labels = []
        for i, row in enumerate(inputs):
            y = len(inputs) - 1 - i
            labels.append(row["file"])
            if row.get("first") is None:
                ax.text(
                    _naive(windows.baseline_start),
                    y,
                    "  no times (not placed in time)",
                    va="center",
                    fontsize=9,
                    color="#666666",
                )
                continue
            a, b = _naive(row["first"]), _naive(row["last"])
            partial = bool(row.get("partial"))  # flagged by the coverage check
            ax.barh(y, b - a, left=a, height=0.5, color=_WARN if partial else _BAR, zorder=2)
        ax.set_yticks(range(len(inputs)), list(reversed(labels)))
        ax.grid(False)
        ax.set_ylim(-0.7, len(inputs) - 0.3)
        _date_axis(ax)
    return fig


def attention_model_chart(
    models: Mapping[str, Any], labels: Mapping[str, str], windows: Any
) -> Figure:
    """Draw observed posts per bin, the fitted segmented regression, and the baseline trend
    carried on (the counterfactual), one panel per side that was modelled."""
    sides = [s for s in ("focal", "institution") if s in labels]
    with _style():
        fig = _figure((10.0, 2.9 * max(1, len(sides)) + 0.8))
        axes = fig.subplots(max(1, len(sides)), 1, sharex=True, squeeze=False)[:, 0]
        _titles(
            fig,
            "Attention as a time series",
            "Dots: posts per bin (per day of exposure); line: the fitted segmented "
            "negative-binomial regression; dashed: the baseline trend carried on.",
            axes[0],
        )
        for ax, side in zip(axes, sides, strict=False):
            m = models.get(side)
            _shade_crisis(ax, windows, label=False)
            ax.set_ylabel(f"{labels[side]}\nposts per day", fontsize=9.5)
            if not isinstance(m, Mapping) or m.get("status") == "not measured":
                why = m.get("reason", "not measured") if isinstance(m, Mapping) else "no model"
                _no_data(ax, f"Not measured: {why}")
                continue
            _draw_fit(ax, m["fitted"], m["freq"])
            lc = m["level_change"]
            note = f"level change ×{lc['value']:.1f} [{lc['low']:.1f}, {lc['high']:.1f}]"
            hl = m.get("half_life_days")
            if isinstance(hl, (int, float)):
                note += f"; half-life {hl:.1f} days"
            ax.text(0.01, 0.92, note, transform=ax.transAxes, fontsize=9, color=DARK, va="top")
        _date_axis(axes[-1])
    return fig


def _draw_fit(ax: Any, fitted: Sequence[Mapping[str, Any]], freq: str) -> None:
    df = pd.DataFrame(list(fitted))
    if df.empty:
        _no_data(ax, "No bins")
        return
    t = pd.to_datetime(df["bin"], utc=True).dt.tz_localize(None) + bin_width(freq) / 2
    e = df["exposure"]
    ax.scatter(t, df["observed"] / e, s=12, color=DARK, zorder=3, label="posts")
    for w, grp in df.groupby("window", sort=False):
        tt, ee = t[grp.index], e[grp.index]
        ax.plot(tt, grp["fitted"] / ee, color=_BAR, lw=1.8, zorder=2)
        if w != "baseline":
            ax.plot(tt, grp["counterfactual"] / ee, color=_BAR, lw=1.2, ls="--", zorder=2)
    ax.set_ylim(bottom=0)

"""The case-study report: findings in plain sentences, six charts, tables, methods, and files.

:func:`write_report` turns a study's metrics (:func:`netsupport.support.analyse`) and the tables
behind them into ``<output dir>/``:

``index.html``
    self-contained (CSS inline, charts embedded as ``data:`` PNGs, a Content-Security-Policy that
    forbids every network request), rendered with jinja2 and autoescaping on;
``report.md``
    the same content in Markdown, charts referenced relatively (``charts/*.png``); every
    untrusted string (handles, post text) is escaped for Markdown and HTML;
``metrics.json``, ``tables/*.csv``, ``charts/*.png|svg``, ``graph.gexf``
    byte-stable: the same inputs give the same bytes;
``manifest.json``
    (:func:`write_manifest`) input hashes, parameters, seeds, package versions and the only
    wall-clock timestamp of the run.

This module gathers the report's inputs (:func:`build_inputs`), fills the templates and writes
the files. The parts live beside it: number and handle formatting and escaping in
:mod:`netsupport.report_format`, the headline sentences in :mod:`netsupport.report_findings`
(generated from the numbers; a metric the data cannot support is listed under "Not measured"
with its reason, never shown as a zero), the charts' data and plan in
:mod:`netsupport.report_charts`, the tables in :mod:`netsupport.report_tables`, and the
evidence and stance sections in :mod:`netsupport.evidence_report`,
:mod:`netsupport.report_evidence` and :mod:`netsupport.report_stance`.
"""

from __future__ import annotations

import importlib.metadata
import math
import platform
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import jinja2
import markupsafe
import numpy as np
import pandas as pd

from . import __version__
from .report_charts import _make_charts, chart_plan
from .report_findings import findings
from .report_format import (
    Chart,
    MdSafe,
    _conf,
    _get,
    _is_nm,
    _num,
    _reason,
    fmt_count,
    fmt_counted,
    fmt_hours,
    fmt_pct,
    fmt_points,
    fmt_ratio,
    fmt_time,
    handle,
    handles,
    md_escape,
    showing,
    shown_handles,
)
from .report_stance import rule_counts_sentence, stance_context
from .report_tables import _clip, headline_display, headline_note, report_tables
from .schema import Role, Table, Window
from .textsafe import atomic_write_text, jsonable, neutralise_bidi, write_csv, write_json

__all__ = [
    "ReportInputs",
    "build_inputs",
    "package_versions",
    "render_html",
    "render_markdown",
    "write_manifest",
    "write_report",
]

#: Packages whose versions the manifest records.
MANIFEST_PACKAGES = (
    "numpy",
    "pandas",
    "pyarrow",
    "networkx",
    "python-louvain",
    "igraph",
    "scipy",
    "scikit-learn",
    "vaderSentiment",
    "matplotlib",
    "jinja2",
    "typer",
)
#: Forbid every network request and every script: the report is a document, not an app.
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'; "
    "base-uri 'none'; form-action 'none'"
)


# ---- rendering ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportInputs:
    """Everything the report is made from (see :func:`netsupport.study.run_study`)."""

    study: Any  # Study
    metrics: Mapping[str, Any]
    units: pd.DataFrame
    stance: pd.DataFrame
    tables: Mapping[str, pd.DataFrame]
    interactions: pd.DataFrame
    posts: pd.DataFrame | None = None
    follows: pd.DataFrame | None = None
    membership: pd.Series | None = None
    pagerank: pd.Series | None = None
    roles: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    inputs: Sequence[Mapping[str, Any]] = ()
    counts: Mapping[str, int] = field(default_factory=dict)  # rows per store table
    # Given by the Dask engine (netsupport.scale), which never holds the rows in one process:
    # edges aggregated per window (baseline/crisis/after, all kinds) and "amplifiers" (crisis
    # repost/quote/mention), used instead of `interactions`; the most-answered posts per side
    # (top_posts); the counts per platform, summed over partitions; and a writer of
    # tables/stance.csv used instead of `stance`.
    edges: Mapping[str, pd.DataFrame] | None = None
    top: Mapping[str, pd.DataFrame] | None = None
    platforms: pd.DataFrame | None = None  # the counts per platform (support.platforms)
    write_stance: Callable[[Path], Path] | None = None
    # With pseudonymised outputs (netsupport.pseudonym): post ids in the tables are replaced
    # and texts withheld (handles are pseudonyms in the data already)
    pseudonymiser: Any = None
    # store key -> handle shown beside it (Bluesky DIDs: shown_handles); none when pseudonymised
    shown: Mapping[str, str] = field(default_factory=dict)
    # ids of the records that delete events name (the store's deletions table; Bluesky)
    deleted: frozenset[str] = frozenset()

    def shown_handles(self) -> Mapping[str, str]:
        """The handles to show beside account keys (none in pseudonymised outputs)."""
        return self.shown if self.pseudonymiser is None else {}


def build_inputs(
    study: Any,
    tables: Mapping[str, pd.DataFrame],
    analysis: Any,
    *,
    membership: pd.Series | None = None,
    pagerank: pd.Series | None = None,
    inputs: Sequence[Mapping[str, Any]] = (),
    counts: Mapping[str, int] | None = None,
    interactions: pd.DataFrame | None = None,
) -> ReportInputs:
    """Return the :class:`ReportInputs` of a study from its tables and its analysis.

    Parameters
    ----------
    tables : mapping
        The canonical tables (``posts``, ``interactions``, ``follows``, ``accounts``).
    analysis : netsupport.support.Analysis
        Metrics, stance table, units and the per-metric tables.
    membership, pagerank : Series, optional
        Baseline communities and crisis PageRank (as given to, or computed by, the analysis).
    inputs : sequence of dict
        ``{path, format, bytes, sha256}`` per input file (for the methods section).
    counts : mapping, optional
        Rows per store table (default: the lengths of ``tables``).
    interactions : DataFrame, optional
        The study's interactions (:func:`netsupport.stance.stance_interactions`) when already
        computed (e.g. by the stance step): saves computing, and holding, a second copy.
    """
    from .stance import stance_interactions

    roles_t = analysis.tables.get("roles")
    roles = (
        roles_t.set_index("handle")["role"]
        if roles_t is not None and not roles_t.empty
        else pd.Series(dtype=object)
    )
    if counts is None:
        counts = {str(k): len(v) for k, v in tables.items() if v is not None}
    return ReportInputs(
        study=study,
        metrics=analysis.metrics,
        units=analysis.units,
        stance=analysis.stance,
        tables=dict(analysis.tables),
        interactions=(
            interactions if interactions is not None else stance_interactions(tables, study)
        ),
        posts=tables.get(Table.POSTS),
        follows=tables.get(Table.FOLLOWS),
        membership=membership if membership is not None and len(membership) else None,
        pagerank=pagerank if pagerank is not None and len(pagerank) else None,
        roles=roles,
        inputs=list(inputs),
        counts=dict(counts),
        shown=shown_handles(tables.get(Table.ACCOUNTS)),
    )


def _env(markdown: bool) -> jinja2.Environment:
    loader = jinja2.PackageLoader("netsupport", "templates")
    if markdown:
        env = jinja2.Environment(
            loader=loader,
            autoescape=False,
            undefined=jinja2.StrictUndefined,
            # every {{ value }} is escaped unless it is MdSafe; bidi controls go in both cases
            finalize=lambda v: md_escape(neutralise_bidi(v)),
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["md"] = MdSafe
    else:
        env = jinja2.Environment(
            loader=loader,
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            finalize=neutralise_bidi,  # every {{ value }}, escaped or Markup (textsafe.py)
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.filters["breakable"] = _breakable
    env.filters.update(
        {
            "count": fmt_count,
            "counted": fmt_counted,  # {{ n|counted("account", "accounts") }}
            "pct": fmt_pct,
            "points": fmt_points,
            "ratio": fmt_ratio,
            "time": fmt_time,
            "hours": fmt_hours,
            "clip": _clip,
        }
    )
    return env


def _breakable(text: Any) -> Any:
    """HTML: ``text`` escaped, with a line-break opportunity (``<wbr>``) after each "." and
    "_", so a long dotted name wraps between its parts, not mid-word (review t5 #17: the
    parameters table showed "sensitivity.window_shift_d | ays").

    Examples
    --------
    >>> str(_breakable("support.top_n<b>"))
    'support.<wbr>top_<wbr>n&lt;b&gt;'
    """
    escaped = str(markupsafe.escape(str(text)))  # entities hold no "." or "_"
    return markupsafe.Markup(re.sub(r"([._])", r"\1<wbr>", escaped))


def _table_rows(df: pd.DataFrame | None, columns: Sequence[tuple[str, str, Any]]) -> dict:
    """Return ``{"head": [...], "rows": [[...]]}`` of formatted cells for a template table."""
    head = [label for _, label, _ in columns]
    rows: list[list[str]] = []
    if df is not None and not df.empty:
        for rec in df.to_dict("records"):
            rows.append([f(rec.get(col)) if f else _cell(rec.get(col)) for col, _, f in columns])
    return {"head": head, "rows": rows}


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, pd.Timestamp):
        return fmt_time(v)
    return str(v)


def _any_true(df: pd.DataFrame | None, col: str) -> bool:
    """Whether any row of ``df`` has a true ``col`` (False without the table or column)."""
    return df is not None and col in df.columns and bool(df[col].fillna(False).astype(bool).any())


def _community_label(v: Any) -> str:
    n = _num(v)  # (none: the account was not in the graph before the crisis)
    return "none before" if n is None else f"Community {int(n)}"


def _context(inp: ReportInputs, charts_: Sequence[Chart], tables: Mapping[str, pd.DataFrame]):
    from .evidence_report import evidence_context, used_windows

    study, m = inp.study, inp.metrics
    inst = handles(study.institution) if study.institution else "institution"
    w = used_windows(study, m)  # cut to the data where the coverage check cut them
    f = findings(m)
    conf = _conf(m)
    agreement = _get(m, "stance", "agreement")
    params = study.parameters()
    windows_rows = [
        (
            "Before (baseline)",
            fmt_time(w.baseline_start),
            fmt_time(w.crisis_start),
            f"{w.days(Window.BASELINE):.1f}",
        ),
        (
            "Crisis",
            fmt_time(w.crisis_start),
            fmt_time(w.crisis_end),
            f"{w.days(Window.CRISIS):.1f}",
        ),
        ("After", fmt_time(w.crisis_end), fmt_time(w.after_end), f"{w.days(Window.AFTER):.1f}"),
    ]
    tbl = {
        "amplifiers": _table_rows(
            tables.get("amplifiers"),
            [
                ("rank", "Rank", None),
                ("handle", "Account", handle),
                ("role", "Role", None),
                ("community", "Community before", _community_label),
                ("pagerank", "PageRank", lambda v: f"{float(v):.4f}"),
                ("crisis_posts_about_focal", f"Posts about {handles(study.focal)}", fmt_count),
                ("stance", "Mostly", None),
            ],
        ),
        "proxies": _table_rows(
            tables.get("proxies"),
            [
                ("rank", "Rank", None),
                ("handle", "Account", handle),
                ("reach", "Accounts reached", fmt_count),
                ("supportive_posts", "Supportive posts", fmt_count),
                *(
                    [("declared", "Named in the study", lambda v: "yes" if v else "")]
                    if _any_true(tables.get("proxies"), "declared")
                    else []  # (a column blank in every row says nothing)
                ),
            ],
        ),
        "top_focal": _table_rows(
            tables.get("top_posts_focal"),
            [
                ("author", "Account", handle),
                ("created_at", "Posted", fmt_time),
                ("stance", "Stance", None),
                ("reach", "Accounts reached", fmt_count),
                ("text", "Text", None),
            ],
        ),
        "top_institution": _table_rows(
            tables.get("top_posts_institution"),
            [
                ("author", "Account", handle),
                ("created_at", "Posted", fmt_time),
                ("stance", "Stance", None),
                ("reach", "Accounts reached", fmt_count),
                ("text", "Text", None),
            ],
        ),
        "platforms": _table_rows(
            tables.get("platforms"),
            [
                ("platform", "Platform", None),
                ("posts", "Posts", fmt_count),
                ("accounts", "Accounts posting", fmt_count),
                ("replies", "Replies", fmt_count),
                ("reposts", "Reposts", fmt_count),
                ("quotes", "Quotes", fmt_count),
                ("likes", "Likes", fmt_count),
                ("with_focal", f"Interactions with {handles(study.focal)}", fmt_count),
                ("with_focal_crisis", "of them in the crisis", fmt_count),
                *(
                    [("deleted_later", "Deleted later (kept)", fmt_count)]
                    if "deleted_later" in tables.get("platforms", ())
                    else []
                ),
            ],
        ),
        "headline": {
            "head": ["Measure", handles(study.focal)]
            + ([handles(study.institution)] if study.institution else []),
            "rows": headline_display(m),
            "note": headline_note(m),
        },
    }
    agree = None
    if isinstance(agreement, Mapping) and not _is_nm(agreement):
        agree = {
            "n": fmt_count(agreement.get("n")),
            "accuracy": fmt_pct(agreement.get("accuracy")),
            "kappa": f"{float(agreement.get('kappa', float('nan'))):.2f}",
            "macro_f1": f"{float(agreement.get('macro_f1', float('nan'))):.2f}",
        }
    return {
        "title": f"Who stood by {handles(study.focal)}",
        "study": study,
        "name": study.name,
        "focal": handles(study.focal),
        "institution": handles(study.institution) if study.institution else "",
        "crisis": f"{fmt_time(w.crisis_start)} to {fmt_time(w.crisis_end)}",
        "crisis_days": f"{w.days(Window.CRISIS):.1f}",
        "baseline_days": f"{w.days(Window.BASELINE):.0f}",
        "after_days": f"{w.days(Window.AFTER):.0f}",
        # the Data line: the counts metrics.json's ``data`` holds (one source for both)
        "counts": {k: fmt_count(v) for k, v in data_counts(inp).items()},
        "n_inputs": len(inp.inputs),
        "findings": f.sentences,
        "not_measured": f.not_measured,
        "charts": list(charts_),
        "tables": tbl,
        "windows": windows_rows,
        "inputs": [
            {
                "name": Path(str(i.get("path", ""))).name,
                "format": i.get("format", ""),
                "bytes": fmt_count(i.get("bytes")),
                "sha256": str(i.get("sha256", "")),
            }
            for i in inp.inputs
        ],
        "parameters": _noted_parameters(_flat_parameters(params), m),
        "agreement": agree,
        "agreement_reason": _reason(agreement) if _is_nm(agreement) else "",
        "stance_rules": rule_counts_sentence(m, [*study.focal, *(study.institution or ())]),
        "conf": conf,
        "version": __version__,
        "csp": CSP,
        "table_files": sorted(f"tables/{k}.csv" for k in tables),
        **evidence_context(m, study),  # the evidence partials' values (issue 15)
        "sensitivity": _sensitivity_context(m, bool(study.institution)),
        **stance_context(
            m,
            charts_,
            {"focal": handles(study.focal), "institution": inst},
            synthetic=bool(getattr(getattr(study, "provenance", None), "synthetic", False)),
        ),
    }


def _sensitivity_context(m: Mapping[str, Any], institution: bool) -> Any:
    from . import report_evidence

    return report_evidence.sensitivity_context(m, institution)


def _noted_parameters(rows: list[tuple[str, str]], m: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return the parameter rows with the declared stance cut-offs marked "not varied" (and
    why) when the sensitivity grid left them all out (``sensitivity.cutoffs``).

    Examples
    --------
    >>> m = {"sensitivity": {"cutoffs": {"varies": False, "reason": "a stance model decides"}}}
    >>> _noted_parameters([("sensitivity.thresholds", "0.05, 0.1")], m)
    [('sensitivity.thresholds', '0.05, 0.1 (not varied: a stance model decides)')]
    """
    sens = m.get("sensitivity")
    cut = sens.get("cutoffs") if isinstance(sens, Mapping) else None
    if not isinstance(cut, Mapping) or cut.get("varies", True) or not cut.get("reason"):
        return rows
    note = f" (not varied: {cut['reason']})"
    return [(k, v + note if k == "sensitivity.thresholds" else v) for k, v in rows]


def _flat_parameters(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k in sorted(params):
        v = params[k]
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out += _flat_parameters(v, f"{key}.")
        elif isinstance(v, list | tuple):
            out.append((key, ", ".join(str(x) for x in v) or "(none)"))
        else:
            out.append((key, "(none)" if v is None else str(v)))
    return out


def render_html(
    inp: ReportInputs, charts_: Sequence[Chart], tables: Mapping, gexf_note: str | None = None
) -> str:
    """Return the self-contained index.html (autoescaped; charts as data URIs).

    ``gexf_note`` says what graph.gexf leaves out (see :mod:`netsupport.gexfout`), if anything.
    """
    with showing(inp.shown_handles()):
        ctx = _context(inp, charts_, tables)
        return _env(False).get_template("report.html.j2").render(**ctx, gexf_note=gexf_note)


def render_markdown(
    inp: ReportInputs, charts_: Sequence[Chart], tables: Mapping, gexf_note: str | None = None
) -> str:
    """Return report.md (untrusted strings escaped for Markdown; charts linked relatively)."""
    with showing(inp.shown_handles()):
        ctx = _context(inp, charts_, tables)
        return _env(True).get_template("report.md.j2").render(**ctx, gexf_note=gexf_note)


def _clean(folder: Path, keep: set[str], suffixes: tuple[str, ...]) -> None:
    """Remove files a previous run wrote in ``folder`` that this run does not write."""
    if not folder.is_dir():
        return
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix in suffixes and p.name not in keep:
            p.unlink()


@contextmanager
def _gc_frozen() -> Iterator[None]:
    """Leave the objects that exist now out of the garbage collector's passes until the end
    (:func:`gc.freeze`): the report makes many small objects (figures, XML and CSV pieces), so
    the collector runs often, and each full pass would walk the study's tables of Python
    strings (millions of objects at 10^6 interactions) that the report only reads."""
    import gc

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class EarlyReport(Protocol):
    """What :func:`write_report` is given when a child process made part of the report."""

    #: the parts the child made beside the metrics step (:class:`netsupport.engine.
    #: ReportParts`: the GEXF's scope, the network map's graph, tables/stance.csv or None)
    parts: Any

    def start_gexf(self, node_attrs: pd.DataFrame) -> Callable[[], Path | None]:
        """Have the child write graph.gexf with these node attributes; return a function that
        waits for it and returns its path (None when no window holds an edge)."""
        ...


#: The store tables whose rows the report's Data line counts (metrics.json ``data``).
DATA_TABLES = ("posts", "interactions", "follows", "accounts")


def data_counts(inp: ReportInputs) -> dict[str, int]:
    """Return what the report's Data line counts: rows per store table and input files.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> inp = SimpleNamespace(counts={"posts": 4600, "follows": 304}, inputs=[{}, {}])
    >>> data_counts(inp)
    {'posts': 4600, 'interactions': 0, 'follows': 304, 'accounts': 0, 'input_files': 2}
    """
    out = {t: int(inp.counts.get(t, 0)) for t in DATA_TABLES}
    out["input_files"] = len(inp.inputs)
    return out


def write_report(
    inp: ReportInputs, out_dir: str | Path, early: EarlyReport | None = None
) -> list[Path]:
    """Write the report files into ``out_dir`` and return their paths (manifest excluded).

    Writes metrics.json, tables/*.csv, charts/*.png|svg, graph.gexf (dynamic: one spell per
    window), report.md and index.html, each atomically; files a previous run left in charts/ and
    tables/ that this run does not produce are removed.

    ``early``: the parts a child process made while the metrics step ran (the GEXF's scope, the
    network map's graph, tables/stance.csv); the child then writes graph.gexf while this
    process draws the charts. The same files either way (tests/test_engine.py).
    """
    with _gc_frozen():
        return _write_report(inp, out_dir, early)


def _write_report(
    inp: ReportInputs, out_dir: str | Path, early: EarlyReport | None = None
) -> list[Path]:
    from . import gexfout

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    coded = window_edges = None
    if early is not None:
        draw = chart_plan(inp, crisis_map=early.parts.crisis_map)
        scope = early.parts.scope
    else:
        # the handles factorised once, for the GEXF's windows, its scope and the network map
        coded = None if inp.edges is not None else gexfout.CodedInteractions(inp.interactions)
        draw = chart_plan(inp, coded)
        window_edges = (
            inp.edges
            if inp.edges is not None
            else gexfout.window_edges_of(inp.interactions, inp.study.windows, coded=coded)
        )
        max_edges = getattr(inp.study, "gexf_max_edges", gexfout.DEFAULT_GEXF_MAX_EDGES)
        scope = gexfout.gexf_scope(window_edges, max_edges)
    # the Data line's counts (the store's rows per table, the input files): metrics.json holds
    # every number the report prints
    metrics = {**inp.metrics, "data": data_counts(inp)}
    if scope.crisis_only:  # (only then: complete studies' metrics.json unchanged)
        metrics["gexf"] = scope.as_dict()
    written: list[Path] = [write_json(metrics, out / "metrics.json")]
    # the child writes graph.gexf while this process writes the rest
    wait_gexf = early.start_gexf(_node_attrs(inp)) if early is not None else None
    early_stance = early.parts.stance_csv if early is not None else None

    tables = report_tables(inp)
    if inp.pseudonymiser is not None:
        tables = inp.pseudonymiser.output_tables(tables)
    if inp.write_stance is not None:
        tables["stance"] = pd.DataFrame()  # listed with the others; written by write_stance
    for name, df in sorted(tables.items()):
        path = out / "tables" / f"{name}.csv"
        if name == "stance" and early_stance is not None:
            written.append(early_stance)  # (written by the child)
        elif name == "stance" and inp.write_stance is not None:
            written.append(inp.write_stance(path))
        else:
            written.append(write_csv(df, path))
    _clean(out / "tables", {f"{k}.csv" for k in tables}, (".csv",))

    if window_edges is not None:
        written += gexfout.write_report_gexf(
            window_edges, inp.study.windows, out, _node_attrs(inp), scope
        )

    chart_list = _make_charts(draw)
    for c in chart_list:
        written.append(_write_bytes(out / "charts" / f"{c.key}.png", c.png))
        written.append(_write_bytes(out / "charts" / f"{c.key}.svg", c.svg))
    _clean(
        out / "charts",
        {f"{c.key}.{x}" for c in chart_list for x in ("png", "svg")},
        (".png", ".svg"),
    )

    note = scope.note()
    written.append(
        atomic_write_text(
            out / "report.md", render_markdown(inp, chart_list, tables, gexf_note=note)
        )
    )
    written.append(
        atomic_write_text(out / "index.html", render_html(inp, chart_list, tables, gexf_note=note))
    )
    if wait_gexf is not None:
        gexf = wait_gexf()
        written += [gexf] if gexf is not None else []
    return written


def _write_bytes(path: Path, data: bytes) -> Path:
    from .textsafe import atomic_write_bytes

    return atomic_write_bytes(path, data)


def _node_attrs(inp: ReportInputs) -> pd.DataFrame:
    """Static node attributes for the GEXF: baseline community, role, crisis PageRank."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts = [inp.roles, inp.membership, inp.pagerank]
    # the handles of all three, distinct and sorted in Arrow (UTF-8 byte order is code point
    # order: Python's sorted()); a Python set of ~10^5 handles cost 0.3 CPU s at 10^6
    handles = pa.chunked_array(
        [np.asarray(s.index.astype(str), dtype=object) for s in parts if s is not None],
        type=pa.string(),
    )
    uniq = pc.unique(handles)
    uniq = uniq.take(pc.sort_indices(uniq)).to_numpy(zero_copy_only=False)
    index = pd.Index(uniq, dtype=object, name="handle")
    df = pd.DataFrame(index=index)
    df["community"] = (
        inp.membership.reindex(index).astype("Int64")
        if inp.membership is not None
        else pd.array([pd.NA] * len(index), dtype="Int64")
    )
    df["role"] = inp.roles.reindex(index).fillna(Role.UNKNOWN.value).astype(object)
    df["crisis_pagerank"] = (
        inp.pagerank.reindex(index).astype(float) if inp.pagerank is not None else np.nan
    )
    return df.reset_index()


# ---- manifest -----------------------------------------------------------------------------------


def package_versions(names: Iterable[str] = MANIFEST_PACKAGES) -> dict[str, str | None]:
    """Return the installed version of each package (``None`` when not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def _file_sha256(path: Path) -> str:
    """sha256 of a file, read in blocks (graph.gexf of a big study is hundreds of MB)."""
    import hashlib

    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def write_manifest(
    out_dir: str | Path,
    study: Any,
    inputs: Sequence[Mapping[str, Any]],
    *,
    steps: Mapping[str, Any] | None = None,
    files: Sequence[Path] = (),
    created_at: str | None = None,
) -> Path:
    """Write manifest.json: how the report was made (the only file with a wall-clock time).

    Records the inputs with their sha256, every parameter and seed, the package and Python
    versions, the netsupport version, the steps run or reused, and the sha256 of every output
    file, so a reader can check that a rerun reproduced the report byte for byte.
    """
    out = Path(out_dir)
    digests = {
        str(p.relative_to(out)): _file_sha256(p)
        for p in sorted(set(files))
        if p.exists() and p.is_relative_to(out)
    }
    manifest = {
        "netsupport": __version__,
        "created_at": created_at
        if created_at is not None
        else pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "study": str(study.path) if study.path else None,
        "parameters": study.parameters(),
        "seeds": {
            "communities": study.communities.seed,
            "support_bootstrap": study.support.seed,
            "layout": study.communities.seed,
        },
        "inputs": [dict(i) for i in inputs],
        "python": platform.python_version(),
        "packages": package_versions(),
        "steps": dict(steps or {}),
        "outputs": digests,
    }
    return write_json(jsonable(manifest), out / "manifest.json")

"""graph.gexf as the report writes it: aggregated edges with spells, few attributes, a size cap.

Schema validation is not here. The GEXF 1.3 XSD published in gephi/gexf (1.3/gexf.xsd, which
includes dynamics.xsd and imports viz.xsd) declares the ``graph``, ``node`` and ``edge`` elements
with types (graph-content, node-content, edge-content) that exist only as attribute groups and
groups in dynamics.xsd, so libxml2, and with it lxml, refuses to compile it (gephi/gexf issue 19,
"xmllint failed to compile XSD schema 1.3"; reproduced here with lxml). Its viz.xsd was not
available to us either. A hand-made schema would not be the published one, so none ships;
networkx.read_gexf is the reader these tests use.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from test_report import _mini_study, _mini_tables
from typer.testing import CliRunner

from netsupport import report, stance, support
from netsupport.cli import app
from netsupport.errors import StudyKeyError
from netsupport.gexfout import (
    DEFAULT_GEXF_MAX_EDGES,
    count_pairs,
    gexf_scope,
    window_edges_of,
    write_graph_gexf,
)
from netsupport.studyfile import load_study

GEXF = "{http://gexf.net/1.3}"
BASE = ("2014-01-31T09:00:00Z", "2014-02-14T08:59:59Z")
CRISIS = ("2014-02-14T09:00:00Z", "2014-02-19T17:59:59Z")
AFTER = ("2014-02-19T18:00:00Z", "2014-03-05T17:59:59Z")

# The fixture's source-target pairs per window, worked by hand from graph_interactions.csv
# (self-loop, missing source and the row after every window left out):
#   amy->lane baseline (reply) and crisis (reply + mention); bob->lane, bob->amy, eve->lane
#   crisis; cat->lane after; dan->amy baseline (structural follow).
PAIRS = 6


def test_pairs_are_counted_once_over_the_windows(graph_interactions, graph_windows):
    edges = window_edges_of(graph_interactions, graph_windows)
    assert {k: len(v) for k, v in edges.items()} == {"baseline": 2, "crisis": 4, "after": 1}
    assert count_pairs(edges) == PAIRS  # amy->lane is in two windows: one edge
    assert count_pairs({}) == 0


def test_networkx_reads_back_nodes_edges_weights_and_spells(
    tmp_path, graph_interactions, graph_windows
):
    attrs = pd.DataFrame({"handle": ["amy", "lane"], "community": [0, 1], "role": ["c", "p"]})
    path, scope = write_graph_gexf(
        window_edges_of(graph_interactions, graph_windows),
        graph_windows,
        tmp_path / "graph.gexf",
        node_attrs=attrs,
    )
    assert not scope.crisis_only and scope.edges == PAIRS
    H = nx.read_gexf(path)
    assert sorted(H.nodes) == ["amy", "bob", "cat", "dan", "eve", "lane"]
    assert H.number_of_edges() == PAIRS  # one <edge> per pair, not per window or interaction
    e = H.edges["amy", "lane"]
    assert e["weight"] == 3.0 and e["kind"] == "reply"
    assert e["spells"] == [BASE, CRISIS]
    assert e["window_weight"] == [(1.0, *BASE), (2.0, *CRISIS)]
    assert H.edges["cat", "lane"]["spells"] == [AFTER]
    # only what the report uses: no per-kind counts on edges
    assert set(e) == {"id", "weight", "kind", "spells", "window_weight"}
    assert H.nodes["lane"]["window_weighted_degree"] == [
        (1.0, *BASE),
        (4.0, *CRISIS),
        (1.0, *AFTER),
    ]
    assert H.nodes["amy"]["community"] == 0 and H.nodes["lane"]["role"] == "p"
    description = ET.parse(path).getroot().find(f"{GEXF}meta/{GEXF}description").text
    assert "crisis window only" not in description


def test_above_the_cap_only_the_crisis_window_is_written_and_said(
    tmp_path, graph_interactions, graph_windows
):
    path, scope = write_graph_gexf(
        window_edges_of(graph_interactions, graph_windows),
        graph_windows,
        tmp_path / "graph.gexf",
        max_edges=PAIRS - 1,
    )
    assert scope.crisis_only
    assert scope.as_dict() == {
        "windows": ["crisis"],
        "edges_all_windows": PAIRS,
        "max_edges": PAIRS - 1,
    }
    H = nx.read_gexf(path)
    assert sorted(H.edges) == [("amy", "lane"), ("bob", "amy"), ("bob", "lane"), ("eve", "lane")]
    assert all(d["spells"] == [CRISIS] for _, _, d in H.edges(data=True))
    assert H.edges["amy", "lane"]["weight"] == 2.0  # the crisis window's weight only
    description = ET.parse(path).getroot().find(f"{GEXF}meta/{GEXF}description").text
    assert "crisis window only: the three windows have 6 edges" in description
    assert "gexf_max_edges = 5" in description

    at_cap = gexf_scope(window_edges_of(graph_interactions, graph_windows), PAIRS)
    assert not at_cap.crisis_only and at_cap.note() is None  # the cap itself is allowed


def test_the_cap_must_be_a_positive_integer(graph_interactions, graph_windows):
    from netsupport.errors import NetsupportError

    with pytest.raises(NetsupportError, match="positive integer"):
        gexf_scope(window_edges_of(graph_interactions, graph_windows), 0)


# ---- the report ---------------------------------------------------------------------------------


def _write_capped(out, max_edges):
    study = dataclasses.replace(_mini_study(out), gexf_max_edges=max_edges)
    tables = _mini_tables()
    st = stance.stance_table(tables, study, workers=1)
    inter = stance.stance_interactions(tables, study)
    membership, _ = support.baseline_communities(inter, study)
    pr, _ = support.crisis_pagerank(inter, study)
    analysis = support.analyse(tables, study, stance=st, membership=membership, pagerank=pr)
    inp = report.build_inputs(study, tables, analysis, membership=membership, pagerank=pr)
    report.write_report(inp, out)
    return inp


def test_report_says_when_graph_gexf_holds_the_crisis_only(tmp_path):
    full = _write_capped(tmp_path / "full", DEFAULT_GEXF_MAX_EDGES)
    edges = window_edges_of(full.interactions, full.study.windows)
    n = count_pairs(edges)
    assert n > 1
    assert "gexf" not in json.loads((tmp_path / "full" / "metrics.json").read_text())
    assert "crisis window only" not in (tmp_path / "full" / "report.md").read_text()

    _write_capped(tmp_path / "cut", n - 1)
    metrics = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert metrics["gexf"] == {"windows": ["crisis"], "edges_all_windows": n, "max_edges": n - 1}
    md = (tmp_path / "cut" / "report.md").read_text()
    html = (tmp_path / "cut" / "index.html").read_text()
    assert "crisis window only" in md and "crisis window only" in html
    H = nx.read_gexf(tmp_path / "cut" / "graph.gexf")
    assert H.number_of_edges() == len(edges["crisis"]) < n


# ---- study option and CLI -----------------------------------------------------------------------

STUDY = """\
[study]
name = "g"
focal = ["lane"]

[windows]
crisis_start = "2014-02-14T09:00:00Z"
crisis_end = "2014-02-19T18:00:00Z"

[[inputs]]
path = "in.csv"
format = "csv"

[output]
dir = "out"
{extra}
"""


def _study_file(tmp_path, extra):
    (tmp_path / "in.csv").write_text("x\n")
    p = tmp_path / "study.toml"
    p.write_text(STUDY.format(extra=extra))
    return p


def test_study_option_sets_the_cap_and_shows_in_parameters_only_when_given(tmp_path):
    default = load_study(_study_file(tmp_path, ""))
    assert default.gexf_max_edges == DEFAULT_GEXF_MAX_EDGES
    assert "output" not in default.parameters()
    capped = load_study(_study_file(tmp_path, "gexf_max_edges = 1000"))
    assert capped.gexf_max_edges == 1000
    assert capped.parameters()["output"] == {"gexf_max_edges": 1000}


def test_study_option_rejects_a_cap_below_one_naming_file_and_line(tmp_path):
    path = _study_file(tmp_path, "gexf_max_edges = 0")
    with pytest.raises(StudyKeyError, match=r"study\.toml:15: output\.gexf_max_edges"):
        load_study(path)


def test_graph_command_cap_option(tmp_path, graph_store):
    out = tmp_path / "d.gexf"
    res = CliRunner().invoke(
        app,
        [
            "graph",
            "--store",
            str(graph_store.root),
            "--crisis",
            "2014-02-14T09:00:00Z",
            "2014-02-19T18:00:00Z",
            "--dynamic",
            "--gexf-max-edges",
            "2",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "d.gexf holds the crisis window only" in res.output
    H = nx.read_gexf(out)
    assert {d["spells"][0] for _, _, d in H.edges(data=True)} == {CRISIS}
    assert "n_reply" in H.edges["amy", "lane"]  # netsupport graph keeps the per-kind counts


def _random_interactions(n: int = 3000, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    names = np.array([f"u{i:02d}" for i in range(40)] + [None], dtype=object)
    kinds = np.array(["reply", "mention", "repost", "quote", "follow", "like"], dtype=object)
    at = pd.Series(
        pd.to_datetime("2014-02-10T00:00Z") + pd.to_timedelta(rng.integers(0, 10 * 86400, n), "s")
    )
    at[rng.random(n) < 0.05] = pd.NaT
    return pd.DataFrame(
        {
            "post_id": np.arange(n).astype(str).astype(object),
            "source": rng.choice(names, n),
            "target": rng.choice(names, n),
            "kind": rng.choice(kinds, n),
            "created_at": at,
            "weight": np.where(rng.random(n) < 0.1, np.nan, rng.random(n) * 3),
        }
    )


def test_coded_interactions_give_the_tables_of_aggregating_each_window_anew():
    """Guards the shared factorisation of handles (the report's GEXF, its scope and the
    network map): the same edges, bit for bit, as window_interactions + aggregate_edges, the
    same pair count, and the same crisis graph as GraphArrays.from_edges."""
    from netsupport.gexfout import CodedInteractions, count_pairs, window_edges_of
    from netsupport.graph import GraphArrays, aggregate_edges, window_interactions
    from netsupport.schema import Window
    from netsupport.windows import Windows

    df = _random_interactions()
    w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 3, 2)
    coded = CodedInteractions(df)
    weights = {"repost": 2.0, "mention": 0.5}
    for kinds in (None, ("repost", "quote", "mention")):
        got = window_edges_of(df, w, kinds, weights, coded=coded)
        want = {
            win.value: aggregate_edges(window_interactions(df, w, win), kinds, weights)
            for win in Window
        }
        for name in want:
            pd.testing.assert_frame_equal(got[name], want[name], check_exact=True)
        assert got.pairs == count_pairs(want)
        g = coded.graph(w, Window.CRISIS, kinds)
        h = GraphArrays.from_edges(aggregate_edges(window_interactions(df, w, "crisis"), kinds))
        assert g.nodes.tolist() == h.nodes.tolist()
        for a in ("src", "dst", "weight"):
            np.testing.assert_array_equal(getattr(g, a), getattr(h, a))


def test_distinct_keys_are_counted_as_np_unique_counts_them():
    """Guards the pair count's sort (np.unique's hash table was 0.5 CPU s at 10^6): empty,
    repeated, unsorted and negative keys count as len(np.unique(keys))."""
    from netsupport.gexfout import _count_distinct

    rng = np.random.default_rng(3)
    cases = [np.array([], dtype=np.int64), np.array([7, 7, 7]), np.array([-2, 5, -2, 0])]
    cases += [rng.integers(-50, 50, size=n) for n in (1, 2, 99, 1000)]
    for keys in cases:
        assert _count_distinct(keys) == len(np.unique(keys))


# Handles a GEXF must escape or clean: XML's specials, both quotes, whitespace, non-ASCII, a
# control character XML forbids, a bidi override; plain handles around them.
ODD = ["a<b", "x&y", 'say"hi', "it's", 'both"\'', "tab\there", "new\nline", "café", "日本",
       "bell\x07", "lane\u202eenal", "plain", "zed"]  # fmt: skip


def _reference_gexf(window_edges, windows, node_attrs=None, kind_counts=True, note=None) -> str:
    """The dynamic GEXF written element by element with plain loops (what the vectorised
    writer must reproduce byte for byte)."""
    from netsupport import gexfout as g
    from netsupport.graph import count_column
    from netsupport.schema import IKind, Window

    rows: dict[tuple[str, str], list[tuple[int, dict]]] = {}
    frames = []
    for i, w in enumerate(Window):
        e = window_edges.get(w.value)
        if e is None or e.empty:
            continue
        frames.append(e)
        for r in e.to_dict("records"):
            rows.setdefault((r["source"], r["target"]), []).append((i, r))
    pairs = sorted(rows)
    nodes = sorted({x for p in pairs for x in p})
    counts = [c for c in (count_column(k) for k in IKind) if any(c in e for e in frames)]
    total = pd.DataFrame(
        {c: [sum(int(r.get(c, 0)) for _, r in rows[p]) for p in pairs] for c in counts}
    )
    total["weight"] = [sum(r["weight"] for _, r in rows[p]) for p in pairs]
    eattr = g._edge_attr_frame(total)
    eattr = eattr if kind_counts else eattr[["kind"]]
    nattr = (
        pd.DataFrame(index=pd.Index(nodes, dtype=object))
        if node_attrs is None
        else g._reindex_attrs(node_attrs, nodes)
    )
    nspecs = g._attr_specs(nattr, list(nattr.columns), "n")
    especs = g._attr_specs(eattr, list(eattr.columns), "e")
    bounds = [g._spell_bounds(windows, w) for w in Window]
    degree: dict[tuple[str, int], float] = {}
    for p in pairs:
        for i, r in rows[p]:
            for x in p:
                degree[x, i] = degree.get((x, i), 0.0) + r["weight"]

    def statics(specs, values):
        out = []
        for spec, v in zip(specs, values, strict=True):
            text = g._gexf_value(v, spec.gtype)
            if text is not None:
                out.append(f'<attvalue for="{spec.id}" value={g._attr(text)}/>')
        return out

    def element(head, static, dyn_id, dyn, close):
        spans = [f'start="{bounds[i][0]}" end="{bounds[i][1]}"' for i, _ in dyn]
        return [
            head,
            "<attvalues>",
            *static,
            *(
                f'<attvalue for="{dyn_id}" value="{g._double(v)}" {s}/>'
                for (_, v), s in zip(dyn, spans, strict=True)
            ),
            "</attvalues>",
            "<spells>",
            *(f"<spell {s}/>" for s in spans),
            "</spells>",
            close,
        ]

    head = g._gexf_head(
        "dynamic", True, ' timeformat="date" timerepresentation="interval" timezone="UTC"', note
    )
    head += g._attributes_block("node", "static", nspecs)
    head += g._attributes_block(
        "node", "dynamic", [g._AttrSpec("nd0", "window_weighted_degree", "double")]
    )
    head += g._attributes_block("edge", "static", especs)
    head += g._attributes_block("edge", "dynamic", [g._AttrSpec("ed0", "window_weight", "double")])
    lines = [*head, "<nodes>"]
    for n, values in zip(nodes, nattr.itertuples(index=False), strict=True):
        dyn = [(i, degree[n, i]) for i in range(3) if (n, i) in degree]
        lines += element(
            f"<node id={g._attr(n)} label={g._attr(n)}>",
            statics(nspecs, values),
            "nd0",
            dyn,
            "</node>",
        )
    lines.append("</nodes>\n<edges>")
    for k, (p, values) in enumerate(zip(pairs, eattr.itertuples(index=False), strict=True)):
        dyn = [(i, r["weight"]) for i, r in rows[p]]
        w = g._double(total["weight"][k])
        head_e = f'<edge id="{k}" source={g._attr(p[0])} target={g._attr(p[1])} weight="{w}">'
        lines += element(head_e, statics(especs, values), "ed0", dyn, "</edge>")
    lines += ["</edges>\n  </graph>\n</gexf>", ""]
    return "\n".join(lines)


def _odd_window_edges(seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    out = {}
    for w, n in (("baseline", 20), ("crisis", 30), ("after", 12)):
        src, dst = rng.choice(ODD, n), rng.choice(ODD, n)
        e = pd.DataFrame({"source": src, "target": dst}).query("source != target")
        e = e.drop_duplicates().sort_values(["source", "target"], ignore_index=True)
        e["n_reply"] = rng.integers(0, 3, len(e))
        e["n_mention"] = rng.integers(1, 4, len(e))
        e["weight"] = e["n_reply"] * 1.5 + e["n_mention"] * 0.25
        out[w] = e.astype({"source": object, "target": object})
    return out


@pytest.mark.parametrize("batch", [100_000, 3])
@pytest.mark.parametrize("kind_counts", [True, False])
def test_dynamic_gexf_matches_a_reference_writer_with_odd_handles(
    tmp_path, graph_windows, monkeypatch, batch, kind_counts
):
    from netsupport import gexfout as g

    monkeypatch.setattr(g, "_GEXF_BATCH", batch)  # several batches: elements split anywhere
    edges = _odd_window_edges()
    attrs = pd.DataFrame(
        {
            "handle": ODD[:7],
            "community": [0, 1, 2, 0, 1, 2, 0],
            "role": ["a<b", "c", 'q"', "c", "é", "c", None],
            "pagerank": [0.1, np.nan, 1 / 3, 2.0, 0.5, 1e-9, 0.25],
        }
    )
    path = g.write_dynamic_gexf_edges(
        edges,
        graph_windows,
        tmp_path / "g.gexf",
        node_attrs=attrs,
        kind_counts=kind_counts,
        note="crisis <only> & more",
    )
    expected = _reference_gexf(edges, graph_windows, attrs, kind_counts, "crisis <only> & more")
    assert path.read_bytes() == expected.encode("utf-8")
    H = nx.read_gexf(path)  # and a reader takes it
    assert set(H.nodes) <= {g._xml_text(h) for h in ODD}


def test_attr_texts_are_attr_of_each_value():
    from netsupport.gexfout import _attr, _attr_texts

    values = [*ODD, "", "\ufffe", "x" * 50 + "&"]
    assert _attr_texts(values).tolist() == [_attr(v) for v in values]
    mixed = ["a", 3, 2.5, "b&"]  # not all strings: each through _attr
    assert _attr_texts(mixed).tolist() == [_attr(v) for v in mixed]
    assert _attr_texts([]).tolist() == []


def test_the_report_child_writes_the_gexf_the_report_step_writes(tmp_path):
    """The report's child (engine.report_parts_child, then engine.report_gexf_child; run here in
    this process) keeps the windows' edges in Arrow files between its two tasks: the round trip
    changes no byte of graph.gexf against writing it from the edges in memory, its scope and
    network map's graph are the report step's, and a study with no edge gets no file."""
    from netsupport import engine
    from netsupport.gexfout import (
        DEFAULT_GEXF_MAX_EDGES,
        CodedInteractions,
        gexf_scope,
        write_report_gexf,
    )
    from netsupport.graph import crisis_map_of
    from netsupport.windows import Windows

    df = _random_interactions()
    w = Windows.from_crisis("2014-02-14T00:00:00Z", "2014-02-16T00:00:00Z", 3, 2)
    study = dataclasses.replace(_mini_study(tmp_path, ("u01",), ("u02",)), windows=w)
    handles = sorted({h for h in (*df["source"], *df["target"]) if isinstance(h, str)})
    attrs = pd.DataFrame(
        {
            "handle": handles,
            "community": pd.array([i % 3 for i in range(len(handles))], dtype="Int64"),
            "role": ["citizen"] * len(handles),
            "crisis_pagerank": np.linspace(0.0, 1.0, len(handles)),
        }
    )
    coded = CodedInteractions(df)
    edges = coded.window_edges(w)
    scope = gexf_scope(edges, DEFAULT_GEXF_MAX_EDGES)  # (the mini study sets no limit)
    (tmp_path / "direct").mkdir()
    [want] = write_report_gexf(edges, w, tmp_path / "direct", attrs, scope)

    work, out = tmp_path / "work", tmp_path / "out"
    work.mkdir()
    inter = engine.write_arrow(df, work / "interactions.arrow")
    parts = engine.report_parts_child(study, str(inter), None, str(out), str(work))
    assert parts.scope == scope and parts.stance_csv is None
    g = crisis_map_of(df, study, w, coded=coded)
    assert parts.crisis_map.nodes.tolist() == g.nodes.tolist()
    for a in ("src", "dst", "weight"):
        np.testing.assert_array_equal(getattr(parts.crisis_map, a), getattr(g, a))
    engine.write_parquet(attrs, work / "node-attrs.parquet")
    path, _, _ = engine.report_gexf_child(
        study, str(work), str(work / "node-attrs.parquet"), str(out), parts.scope
    )
    assert path is not None and Path(path).read_bytes() == want.read_bytes()

    none = df.assign(created_at=pd.Timestamp("2013-01-01T00:00Z"))  # before every window
    engine.write_arrow(none, work / "none.arrow")
    parts = engine.report_parts_child(study, str(work / "none.arrow"), None, str(out), str(work))
    assert not list(work.glob("report-edges-*.arrow"))
    (out / "graph.gexf").unlink()
    path, _, _ = engine.report_gexf_child(
        study, str(work), str(work / "node-attrs.parquet"), str(out), parts.scope
    )
    assert path is None and not (out / "graph.gexf").exists()

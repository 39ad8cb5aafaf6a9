"""Tests for netsupport.graph: aggregation, windows, graph building, PageRank, exports."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netsupport import graph as ngraph
from netsupport.errors import EmptyWindow, NetsupportError
from netsupport.gexfout import export_graph, write_dynamic_gexf, write_gexf, write_graphml
from netsupport.graph import (
    EmptyGraph,
    GraphArrays,
    UnknownKind,
    aggregate_edges,
    build_graph,
    dominant_kind,
    edges_from_graph,
    node_table,
    pagerank,
    parse_kinds,
    select_edges,
    undirected,
    undirected_edges,
    window_interactions,
)
from netsupport.schema import IKind, Window

GEXF = "{http://gexf.net/1.3}"


def _rows(edges: pd.DataFrame) -> list[tuple]:
    return [tuple(r) for r in edges.itertuples(index=False, name=None)]


# ---- aggregation --------------------------------------------------------------------------------


def test_aggregate_edges_counts_and_weights_by_hand(graph_interactions):
    edges = aggregate_edges(graph_interactions)
    assert list(edges.columns) == [
        "source",
        "target",
        "n_reply",
        "n_mention",
        "n_repost",
        "n_quote",
        "n_follow",
        "n_marker",
        "weight",
    ]
    # self-loop cat->cat and the row without a source are left out; null weight counts as 1
    assert _rows(edges) == [
        ("amy", "bob", 0, 0, 0, 1, 0, 0, 1.0),
        ("amy", "lane", 2, 1, 0, 0, 0, 0, 3.0),
        ("bob", "amy", 0, 1, 0, 0, 0, 0, 1.0),
        ("bob", "lane", 0, 0, 1, 0, 0, 0, 1.0),
        ("cat", "lane", 0, 1, 0, 0, 0, 0, 1.0),
        ("dan", "amy", 0, 0, 0, 0, 1, 0, 1.0),
        ("eve", "lane", 0, 0, 0, 0, 0, 1, 1.0),
    ]
    assert edges["n_reply"].dtype == "int64" and edges["weight"].dtype == "float64"


def test_aggregate_edges_kind_filter_and_kind_weights(graph_interactions):
    edges = aggregate_edges(
        graph_interactions,
        kinds=[IKind.MENTION, "repost"],
        kind_weights={"repost": 2.0, "mention": 0.5},
    )
    assert list(edges.columns) == ["source", "target", "n_mention", "n_repost", "weight"]
    # amy->lane: one mention (its replies are not asked for) x 0.5
    assert _rows(edges) == [
        ("amy", "lane", 1, 0, 0.5),
        ("bob", "amy", 1, 0, 0.5),
        ("bob", "lane", 0, 1, 2.0),
        ("cat", "lane", 1, 0, 0.5),
    ]


def test_aggregate_edges_row_weight_multiplies_kind_weight():
    df = pd.DataFrame(
        {
            "source": ["a", "a", "a"],
            "target": ["b", "b", "b"],
            "kind": ["reply", "reply", "repost"],
            "weight": [2.0, None, 3.0],
        }
    )
    edges = aggregate_edges(df, kind_weights={"repost": 0.5})
    assert _rows(edges) == [("a", "b", 2, 1, 2.0 + 1.0 + 1.5)]


def test_aggregate_edges_keeps_self_loops_when_asked(graph_interactions):
    edges = aggregate_edges(graph_interactions, kinds="reply", self_loops=True)
    assert ("cat", "cat", 1, 1.0) in _rows(edges)


def test_aggregate_edges_is_independent_of_row_order(graph_interactions):
    shuffled = graph_interactions.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(aggregate_edges(shuffled), aggregate_edges(graph_interactions))


def test_aggregate_edges_empty_input_gives_empty_frame():
    empty = pd.DataFrame({"source": [], "target": [], "kind": []})
    edges = aggregate_edges(empty)
    assert edges.empty and list(edges.columns) == ["source", "target", "weight"]


@pytest.mark.parametrize(
    "weights, message",
    [({"likes": 1.0}, "unknown interaction kind 'likes'"), ({"reply": -1}, "must be a finite")],
)
def test_aggregate_edges_rejects_bad_kind_weights(graph_interactions, weights, message):
    with pytest.raises(NetsupportError, match=message):
        aggregate_edges(graph_interactions, kind_weights=weights)


def test_parse_kinds_orders_and_validates():
    assert parse_kinds("quote, reply ,quote") == (IKind.REPLY, IKind.QUOTE)
    assert parse_kinds(None) is None
    with pytest.raises(UnknownKind, match="expected some of: reply, mention"):
        parse_kinds("reply,favourite")  # (not "like": a kind since issue 16)
    with pytest.raises(UnknownKind, match="no interaction kinds"):
        parse_kinds(" , ")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.sampled_from(["a", "b", "c", "d"]),
            st.sampled_from([k.value for k in IKind]),
            st.floats(0, 10, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_aggregate_edges_conserves_rows_and_weight(rows):
    """Property: every kept row is counted once; weights add up (no row is lost or doubled)."""
    df = pd.DataFrame(rows, columns=["source", "target", "kind", "weight"])
    edges = aggregate_edges(df)
    kept = df[df["source"] != df["target"]]
    counts = edges[[c for c in edges.columns if c.startswith("n_")]].to_numpy().sum()
    assert counts == len(kept)
    assert edges["weight"].sum() == pytest.approx(kept["weight"].sum())
    assert not edges.duplicated(["source", "target"]).any()
    assert _rows(edges[["source", "target"]]) == sorted(_rows(edges[["source", "target"]]))


# ---- windows ------------------------------------------------------------------------------------


def test_window_interactions_half_open_bounds_and_structural_follows(
    graph_interactions, graph_windows
):
    base = window_interactions(graph_interactions, graph_windows, Window.BASELINE)
    crisis = window_interactions(graph_interactions, graph_windows, "crisis")
    after = window_interactions(graph_interactions, graph_windows, Window.AFTER)
    # baseline: the 02-10 reply and the follow without a time (structural)
    assert base["post_id"].fillna("-").tolist() == ["1", "-"]
    # crisis: starts at 09:00 inclusive, ends before 18:00 (17:59:59 is in)
    assert crisis["post_id"].tolist() == ["2", "2", "3", "4", "6", "7", "8"]
    # after: 18:00 sharp belongs to the after window; 03-20 is outside every window
    assert after["post_id"].tolist() == ["5"]


def test_window_interactions_null_time_non_follow_is_in_no_window(graph_windows):
    df = pd.DataFrame(
        {
            "source": ["a"],
            "target": ["b"],
            "kind": ["reply"],
            "created_at": pd.to_datetime([None], utc=True),
        }
    )
    for w in Window:
        assert window_interactions(df, graph_windows, w).empty


def test_select_edges_empty_window_names_window_and_kinds(graph_interactions, graph_windows):
    with pytest.raises(EmptyWindow, match=r"window after .* kind repost"):
        select_edges(graph_interactions, windows=graph_windows, window="after", kinds="repost")
    edges = select_edges(graph_interactions, windows=graph_windows, window="crisis")
    assert edges[["source", "target"]].values.tolist() == [
        ["amy", "lane"],
        ["bob", "amy"],
        ["bob", "lane"],
        ["eve", "lane"],
    ]


# ---- graphs -------------------------------------------------------------------------------------


def test_build_graph_inserts_sorted_whatever_the_input_order(graph_interactions):
    edges = aggregate_edges(graph_interactions)
    G1 = build_graph(edges)
    G2 = build_graph(edges.iloc[::-1])
    assert list(G1.nodes) == ["amy", "bob", "cat", "dan", "eve", "lane"]
    assert list(G1.edges) == list(G2.edges) == sorted(G1.edges)
    assert G1["amy"]["lane"] == {
        "n_reply": 2,
        "n_mention": 1,
        "n_repost": 0,
        "n_quote": 0,
        "n_follow": 0,
        "n_marker": 0,
        "weight": 3.0,
    }
    assert all(type(k) is str for k in G1["amy"]["lane"])  # plain str keys, not enum members


def test_build_graph_empty_raises():
    with pytest.raises(EmptyGraph):
        build_graph(pd.DataFrame({"source": [], "target": [], "weight": []}))


def test_undirected_sums_both_directions_and_keeps_isolated_nodes():
    D = nx.DiGraph()
    D.add_node("zed")
    D.add_edge("b", "a", weight=1.0, n_reply=1)
    D.add_edge("a", "b", weight=2.0, n_reply=0)
    D.add_edge("a", "c", weight=0.5, n_reply=1)
    U = undirected(D)
    assert list(U.nodes) == ["a", "b", "c", "zed"]
    assert U["a"]["b"] == {"n_reply": 1, "weight": 3.0}
    assert U["a"]["c"]["weight"] == 0.5
    frame = undirected_edges(edges_from_graph(D))
    assert frame[["source", "target", "weight"]].values.tolist() == [
        ["a", "b", 3.0],
        ["a", "c", 0.5],
    ]


def test_graph_arrays_from_frame_and_graph_agree(graph_interactions):
    edges = aggregate_edges(graph_interactions)
    a = GraphArrays.from_edges(edges)
    b = GraphArrays.from_graph(build_graph(edges))
    assert a.nodes.tolist() == b.nodes.tolist()
    assert a.src.tolist() == b.src.tolist() and a.dst.tolist() == b.dst.tolist()
    assert a.weight.tolist() == b.weight.tolist()
    u = a.to_undirected()
    # amy<->bob: amy->bob (quote, 1) + bob->amy (mention, 1)
    i, j = u.nodes.tolist().index("amy"), u.nodes.tolist().index("bob")
    k = np.flatnonzero((u.src == i) & (u.dst == j))
    assert u.weight[k].tolist() == [2.0]


# ---- PageRank -----------------------------------------------------------------------------------


def test_pagerank_matches_hand_solution():
    # amy->bob (2), amy->lane (2), bob->lane (1); lane is dangling (spreads uniformly).
    # Solving p = (1-a)/3 + a * (P^T p + dangling/3) by hand with a = 0.85 gives:
    G = nx.DiGraph()
    G.add_weighted_edges_from([("amy", "bob", 2.0), ("amy", "lane", 2.0), ("bob", "lane", 1.0)])
    pr = pagerank(G)
    assert pr.index.tolist() == ["amy", "bob", "lane"]
    assert pr.tolist() == pytest.approx([0.1975797, 0.2815510, 0.5208693], abs=1e-6)


@pytest.mark.parametrize("directed", [True, False])
def test_pagerank_networkx_and_igraph_agree(directed):
    pytest.importorskip("igraph")
    G = nx.gnp_random_graph(80, 0.06, seed=5, directed=directed)
    rng = np.random.default_rng(5)
    for u, v in G.edges:
        G[u][v]["weight"] = float(rng.integers(1, 6))
    G.add_node(999)  # isolated (and dangling)
    a = pagerank(G, engine="networkx")
    b = pagerank(G, engine="igraph")
    assert a.index.tolist() == b.index.tolist()
    assert np.abs(a.to_numpy() - b.to_numpy()).max() < 1e-6
    assert a.sum() == pytest.approx(1.0)


def test_pagerank_auto_uses_the_sparse_engine_above_threshold(monkeypatch):
    G = nx.gnp_random_graph(30, 0.2, seed=1, directed=True)
    calls = []
    real = ngraph._pagerank_sparse
    monkeypatch.setattr(
        ngraph, "_pagerank_sparse", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    small = pagerank(G)
    assert calls == []
    monkeypatch.setattr(ngraph, "PAGERANK_SPARSE_MIN_EDGES", 10)
    big = pagerank(G)
    assert calls == [1]
    assert np.abs(small.to_numpy() - big.to_numpy()).max() < 1e-9


@pytest.mark.parametrize("directed", [True, False])
def test_pagerank_sparse_agrees_with_networkx(directed):
    G = nx.gnp_random_graph(80, 0.06, seed=5, directed=directed)
    rng = np.random.default_rng(5)
    for u, v in G.edges:
        G[u][v]["weight"] = float(rng.integers(1, 6))
    G.add_edge(3, 3, weight=2.0)  # a self-loop
    G.add_node(999)  # isolated (and dangling)
    a = pagerank(G, engine="networkx")
    b = pagerank(G, engine="sparse")
    assert a.index.tolist() == b.index.tolist()
    assert np.abs(a.to_numpy() - b.to_numpy()).max() < 1e-9


# ---- node table ---------------------------------------------------------------------------------


def test_node_table_degrees_roles_and_stance_counts(graph_interactions):
    G = build_graph(aggregate_edges(graph_interactions))
    accounts = pd.DataFrame({"handle": ["lane", "bob"], "role": ["professional", None]})
    stance = pd.DataFrame({"handle": ["amy"], "n_supportive": [3], "n_critical": [1]})
    t = node_table(G, pd.Series({n: 0 for n in G}), accounts, stance).set_index("handle")
    assert t.loc["lane", ["in_degree", "out_degree", "weighted_in_degree"]].tolist() == [4, 0, 6.0]
    assert t.loc["amy", ["in_degree", "out_degree", "weighted_out_degree"]].tolist() == [2, 2, 4.0]
    assert t["role"].to_dict() == {
        "amy": "unknown",
        "bob": "unknown",
        "cat": "unknown",
        "dan": "unknown",
        "eve": "unknown",
        "lane": "professional",
    }
    assert t["n_supportive"].tolist() == [3, 0, 0, 0, 0, 0]
    assert t["pagerank"].sum() == pytest.approx(1.0)


def test_dominant_kind_ties_go_to_enum_order():
    e = pd.DataFrame({"n_reply": [1, 0, 2], "n_mention": [1, 1, 0], "n_marker": [0, 1, 0]})
    assert dominant_kind(e).tolist() == ["reply", "mention", "reply"]


# ---- exports ------------------------------------------------------------------------------------


@pytest.fixture
def attributed(graph_interactions):
    """A small graph with every kind of node attribute, including awkward strings."""
    G = build_graph(aggregate_edges(graph_interactions))
    accounts = pd.DataFrame({"handle": ["lane"], "role": ['media & <"press">']})
    stance = pd.DataFrame({"handle": ["amy"], "n_supportive": [2], "n_critical": [1]})
    membership = pd.Series({"amy": 0, "lane": 0, "bob": 1, "cat": 1, "dan": 2, "eve": 2})
    attrs = node_table(G, membership, accounts, stance)
    attrs["flagged"] = attrs["handle"] == "eve"
    return G, attrs


def test_gexf_round_trip_keeps_every_attribute(tmp_path, attributed):
    G, attrs = attributed
    path = write_gexf(G, tmp_path / "g.gexf", attrs)
    H = nx.read_gexf(path)
    assert isinstance(H, nx.DiGraph)
    assert sorted(H.nodes) == sorted(G.nodes)
    for row in attrs.to_dict("records"):
        data = H.nodes[row["handle"]]
        for key, value in row.items():
            if key == "handle":
                assert data["label"] == value
            elif isinstance(value, float):
                # 10 significant digits, exactly (issue 14 item 14: the last digits moved)
                assert data[key] == float(f"{value:.10g}")
            else:
                assert data[key] == value, key
    for u, v, d in G.edges(data=True):
        h = H.edges[u, v]
        assert h["weight"] == d["weight"]
        for key in (k for k in d if k.startswith("n_")):
            assert h[key] == d[key]
        assert h["kind"] == max(
            (k for k in IKind), key=lambda k: (d.get(f"n_{k.value}", 0), -list(IKind).index(k))
        )
    assert H.edges["amy", "lane"]["kind"] == "reply"
    assert H.nodes["lane"]["role"] == 'media & <"press">'


def test_gexf_header_is_version_1_3_and_bytes_are_stable(tmp_path, graph_interactions):
    edges = aggregate_edges(graph_interactions)
    p1 = write_gexf(build_graph(edges), tmp_path / "a.gexf")
    p2 = write_gexf(build_graph(edges.sample(frac=1.0, random_state=1)), tmp_path / "b.gexf")
    assert p1.read_bytes() == p2.read_bytes()
    root = ET.parse(p1).getroot()
    assert root.tag == f"{GEXF}gexf" and root.get("version") == "1.3"
    graph = root.find(f"{GEXF}graph")
    assert graph.get("defaultedgetype") == "directed" and graph.get("mode") == "static"
    titles = {a.get("title") for a in graph.iter(f"{GEXF}attribute")}
    assert {"community", "role", "in_degree", "out_degree", "pagerank", "kind"} <= titles
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.gexf", "b.gexf"]  # no temp files left


def test_gexf_strips_xml_invalid_characters(tmp_path):
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=1.0, n_reply=1)
    attrs = pd.DataFrame({"handle": ["a", "b"], "note": ["bell\x07here", "ok"]})
    H = nx.read_gexf(write_gexf(G, tmp_path / "g.gexf", attrs))
    assert H.nodes["a"]["note"] == "bellhere"


def test_dynamic_gexf_has_a_spell_per_active_window(tmp_path, graph_interactions, graph_windows):
    attrs = pd.DataFrame({"handle": ["amy", "lane"], "community": [0, 1]})
    path = write_dynamic_gexf(
        graph_interactions, graph_windows, tmp_path / "d.gexf", node_attrs=attrs
    )
    root = ET.parse(path).getroot()
    graph = root.find(f"{GEXF}graph")
    assert graph.get("mode") == "dynamic"
    assert graph.get("timeformat") == "date" and graph.get("timerepresentation") == "interval"
    base, crisis, after = (
        ("2014-01-31T09:00:00Z", "2014-02-14T08:59:59Z"),
        ("2014-02-14T09:00:00Z", "2014-02-19T17:59:59Z"),
        ("2014-02-19T18:00:00Z", "2014-03-05T17:59:59Z"),
    )
    spells = {}
    for edge in graph.iter(f"{GEXF}edge"):
        key = (edge.get("source"), edge.get("target"))
        spells[key] = [(s.get("start"), s.get("end")) for s in edge.iter(f"{GEXF}spell")]
    assert spells == {
        ("amy", "lane"): [base, crisis],
        ("bob", "amy"): [crisis],
        ("bob", "lane"): [crisis],
        ("cat", "lane"): [after],
        ("dan", "amy"): [base],  # structural follow: baseline only
        ("eve", "lane"): [crisis],
    }  # amy->bob (2014-03-20) is outside every window
    node_spells = {
        n.get("id"): [s.get("start") for s in n.iter(f"{GEXF}spell")]
        for n in graph.iter(f"{GEXF}node")
    }
    assert node_spells["lane"] == [base[0], crisis[0], after[0]]
    assert node_spells["dan"] == [base[0]]

    H = nx.read_gexf(path)
    assert H.graph["mode"] == "dynamic"
    assert H.edges["amy", "lane"]["spells"] == [base, crisis]
    assert H.edges["amy", "lane"]["weight"] == 2.0 + 1.0  # 1 reply before, reply + mention during
    assert H.edges["amy", "lane"]["window_weight"] == [(1.0, *base), (2.0, *crisis)]
    assert H.nodes["lane"]["window_weighted_degree"] == [
        (1.0, *base),
        (4.0, *crisis),
        (1.0, *after),
    ]
    assert H.nodes["amy"]["community"] == 0 and "community" not in H.nodes["bob"]


def test_dynamic_gexf_with_no_edge_in_any_window_raises(tmp_path, graph_windows):
    df = pd.DataFrame(
        {
            "source": ["a"],
            "target": ["b"],
            "kind": ["reply"],
            "created_at": pd.to_datetime(["2020-01-01T00:00Z"], utc=True),
        }
    )
    with pytest.raises(EmptyWindow, match="no window"):
        write_dynamic_gexf(df, graph_windows, tmp_path / "d.gexf")


def test_graphml_round_trip(tmp_path, attributed):
    G, attrs = attributed
    H = nx.read_graphml(write_graphml(G, tmp_path / "g.graphml", attrs))
    assert H.nodes["amy"]["n_supportive"] == 2 and H.nodes["amy"]["community"] == 0
    assert H.nodes["lane"]["role"] == 'media & <"press">'
    assert H.nodes["eve"]["flagged"] is True
    assert H.edges["amy", "lane"]["kind"] == "reply" and H.edges["amy", "lane"]["weight"] == 3.0


def test_csv_export_neutralises_formulas(tmp_path):
    G = nx.DiGraph()
    G.add_edge("=cmd", "@x", weight=1.0, n_mention=1)
    G.add_edge("plain", "=cmd", weight=2.0, n_mention=2)
    paths = export_graph(G, tmp_path / "g.csv")
    assert [p.name for p in paths] == ["g.csv", "g.nodes.csv"]
    with open(paths[0], newline="") as fh:
        edges = list(csv.DictReader(fh))
    assert edges[0]["source"] == "'=cmd" and edges[0]["target"] == "'@x"
    assert edges[0]["kind"] == "mention"
    with open(paths[1], newline="") as fh:
        nodes = list(csv.DictReader(fh))
    assert [n["handle"] for n in nodes] == ["'=cmd", "'@x", "plain"]


def test_export_graph_dispatches_on_suffix(tmp_path, graph_interactions):
    G = build_graph(aggregate_edges(graph_interactions))
    assert export_graph(G, tmp_path / "x.GEXF")[0].read_text().startswith("<?xml")
    assert "graphml" in export_graph(G, tmp_path / "x.graphml")[0].read_text()
    with pytest.raises(NetsupportError, match="use .gexf, .graphml or .csv"):
        export_graph(G, tmp_path / "x.json")


# ---- CLI: netsupport graph ----------------------------------------------------------------------

CRISIS = ["--crisis", "2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z"]


def _invoke(args):
    from typer.testing import CliRunner

    from netsupport.cli import app

    return CliRunner().invoke(app, args)


def test_cli_graph_writes_gexf_of_a_window(tmp_path, graph_store):
    out = tmp_path / "crisis.gexf"
    r = _invoke(
        [
            "graph",
            "--store",
            str(graph_store.root),
            *CRISIS,
            "--window",
            "crisis",
            "--out",
            str(out),
        ]
    )
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == str(out)
    assert "graph: 4 nodes, 4 edges" in r.stderr and "window crisis" in r.stderr
    H = nx.read_gexf(out)
    assert sorted(H.edges) == [("amy", "lane"), ("bob", "amy"), ("bob", "lane"), ("eve", "lane")]
    assert H.nodes["lane"]["role"] == "professional" and "community" in H.nodes["lane"]


def test_cli_graph_dynamic_and_csv_and_kinds(tmp_path, graph_store):
    dyn = tmp_path / "d.gexf"
    r = _invoke(
        ["graph", "--store", str(graph_store.root), *CRISIS, "--dynamic", "--out", str(dyn)]
    )
    assert r.exit_code == 0, r.output
    assert nx.read_gexf(dyn).graph["mode"] == "dynamic"
    r = _invoke(
        [
            "graph",
            "--store",
            str(graph_store.root),
            "--kinds",
            "reply,mention",
            "--no-communities",
            "--out",
            str(tmp_path / "g.csv"),
        ]
    )
    assert r.exit_code == 0, r.output
    assert "using all interactions" in r.stderr
    edges = pd.read_csv(tmp_path / "g.csv")
    assert edges[["source", "target"]].values.tolist() == [
        ["amy", "lane"],
        ["bob", "amy"],
        ["cat", "lane"],
    ]
    assert pd.read_csv(tmp_path / "g.nodes.csv")["community"].isna().all()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--window", "crisis"], "--window needs --study or --crisis"),
        ([*CRISIS, "--window", "after", "--kinds", "repost"], "window after"),
        (["--kinds", "likes"], "unknown interaction kind 'likes'"),
        ([*CRISIS, "--window", "later"], "expected baseline, crisis or after"),
    ],
)
def test_cli_graph_errors_are_one_line(tmp_path, graph_store, args, message):
    r = _invoke(
        ["graph", "--store", str(graph_store.root), *args, "--out", str(tmp_path / "x.gexf")]
    )
    assert r.exit_code == 2
    assert message in r.stderr and r.stderr.count("error:") == 1 and "Traceback" not in r.output


def test_cli_graph_without_a_store_says_import_first(tmp_path):
    r = _invoke(["graph", "--store", str(tmp_path / "none"), "--out", str(tmp_path / "x.gexf")])
    assert r.exit_code == 2 and "import data first" in r.stderr


_HANDLES = st.sampled_from(["a", "b", "ä", "Z", "zz", "ß", "a b", None])
_KINDS = st.sampled_from([*(k.value for k in IKind), "other", None])


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(_HANDLES, _HANDLES, _KINDS, st.one_of(st.none(), st.sampled_from([1.0, 2.5]))),
        max_size=40,
    ),
    st.booleans(),
    st.booleans(),
)
def test_aggregate_edges_matches_a_plain_python_oracle(rows, self_loops, arrow_strings):
    df = pd.DataFrame(rows, columns=["source", "target", "kind", "weight"])
    for col in ("source", "target", "kind"):
        df[col] = df[col].astype("str" if arrow_strings else object)
    weights = {"repost": 2.0}
    got = aggregate_edges(df, kind_weights=weights, self_loops=self_loops)
    oracle: dict = {}
    for s, t, k, w in rows:
        if s is None or t is None or k not in {x.value for x in IKind}:
            continue
        if s == t and not self_loops:
            continue
        e = oracle.setdefault((s, t), {"w": 0.0})
        e[k] = e.get(k, 0) + 1
        e["w"] += (1.0 if w is None else w) * weights.get(k, 1.0)
    assert list(zip(got["source"], got["target"], strict=True)) == sorted(oracle)
    kinds = [k.value for k in IKind if any(k.value in e for e in oracle.values())]
    assert [c for c in got.columns if c.startswith("n_")] == [f"n_{k}" for k in kinds]
    for row, key in zip(got.itertuples(index=False), sorted(oracle), strict=True):
        e = oracle[key]
        assert [getattr(row, f"n_{k}") for k in kinds] == [e.get(k, 0) for k in kinds]
        assert row.weight == pytest.approx(e["w"])
    assert got["source"].dtype == object and got["target"].dtype == object

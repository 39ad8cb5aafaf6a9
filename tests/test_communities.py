"""Tests for netsupport.communities: engines on graphs with known answers, determinism, tables."""

from __future__ import annotations

import json
import random

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import normalized_mutual_info_score

from netsupport import communities as nc
from netsupport.communities import (
    EngineUnavailable,
    Partition,
    analyse_communities,
    community_table,
    detect,
    estimate_memory,
    modularity,
    stability,
    write_community_outputs,
)
from netsupport.errors import EmptyWindow, NetsupportError, ResourceLimit
from netsupport.graph import EmptyGraph, aggregate_edges, build_graph

ENGINES = ["louvain", "leiden", "multilevel"]


def _nmi(truth, partition: Partition) -> float:
    labels = partition.membership.reindex(list(truth)).to_numpy()
    return normalized_mutual_info_score(list(truth.values()), labels)


def _edges_frame(G: nx.Graph) -> pd.DataFrame:
    return pd.DataFrame(
        [(u, v, d.get("weight", 1.0)) for u, v, d in G.edges(data=True)],
        columns=["source", "target", "weight"],
    )


@pytest.fixture(scope="module")
def planted():
    """4 x 250 nodes, p_in 0.1, p_out 0.005: the issue's acceptance graph."""
    G = nx.planted_partition_graph(4, 250, 0.1, 0.005, seed=11)
    return G, {n: n // 250 for n in G}


@pytest.fixture(scope="module")
def noisy():
    """8 x 20 nodes with heavy mixing: engines' choices depend on node order and seed here."""
    return nx.planted_partition_graph(8, 20, 0.3, 0.06, seed=1)


def _check_partition(G: nx.Graph, p: Partition) -> None:
    """Property: a partition covers every node exactly once; ids are 0..k-1 by size, then member."""
    m = p.membership
    assert sorted(m.index.tolist()) == sorted(G.nodes()) and m.index.is_unique
    assert m.index.tolist() == sorted(m.index.tolist())
    ids = sorted(set(m.tolist()))
    assert ids == list(range(len(ids)))
    groups = p.communities()
    assert sum(len(g) for g in groups) == G.number_of_nodes()
    assert set().union(*map(set, groups)) == set(G.nodes())
    keys = [(-len(g), min(g)) for g in groups]
    assert keys == sorted(keys)  # largest first, ties by smallest member


# ---- acceptance: graphs with known answers ------------------------------------------------------


@pytest.mark.parametrize("algorithm", ENGINES)
def test_every_engine_recovers_the_planted_partition(planted, algorithm):
    """Contract test: one interface, every engine, same known answer."""
    pytest.importorskip("igraph") if algorithm != "louvain" else None
    G, truth = planted
    p = detect(G, algorithm, seed=42)
    assert p.algorithm == algorithm
    assert _nmi(truth, p) >= 0.95
    _check_partition(G, p)
    expected_q = nx.community.modularity(G, p.communities())
    assert p.modularity == pytest.approx(expected_q, abs=1e-9)
    assert p.parameters["seed"] == 42 and p.parameters["resolution"] == 1.0


@pytest.mark.parametrize("algorithm", ENGINES)
def test_karate_club_splits_into_the_two_factions(algorithm):
    if algorithm != "louvain":
        pytest.importorskip("igraph")
    G = nx.karate_club_graph()
    truth = {n: G.nodes[n]["club"] for n in G}
    p = detect(G, algorithm, seed=42)
    assert _nmi(truth, p) >= 0.55
    _check_partition(G, p)


def test_karate_club_golden_values_at_seed_42():
    """Golden values: a change of engine behaviour or of the id ordering shows up here."""
    p = detect(nx.karate_club_graph(), "louvain", seed=42)
    assert p.n_communities == 4
    assert p.sizes().tolist() == [14, 11, 5, 4]
    assert round(p.modularity, 4) == 0.4439
    assert p.communities()[1] == [0, 1, 2, 3, 7, 11, 12, 13, 17, 19, 21]  # Mr Hi's core
    assert p.communities()[3] == [24, 25, 28, 31]


@pytest.mark.parametrize("algorithm", ENGINES)
def test_shuffled_edge_order_gives_identical_partition(noisy, algorithm):
    """Guards against python-louvain's order dependence: it shuffles a permutation of
    ``graph.nodes()`` and walks neighbours in adjacency order, so the same seed on the same edges
    inserted in another order gives another partition. detect() rebuilds the graph sorted."""
    if algorithm != "louvain":
        pytest.importorskip("igraph")
    edges = list(noisy.edges())
    ref = detect(noisy, algorithm, seed=7).membership
    for shuffle_seed in range(3):
        rnd = random.Random(shuffle_seed)
        shuffled = edges[:]
        rnd.shuffle(shuffled)
        nodes = list(noisy.nodes())
        rnd.shuffle(nodes)
        H = nx.Graph()
        H.add_nodes_from(nodes)
        H.add_edges_from(shuffled)
        pd.testing.assert_series_equal(detect(H, algorithm, seed=7).membership, ref)
        frame = _edges_frame(H).sample(frac=1.0, random_state=shuffle_seed)
        pd.testing.assert_series_equal(detect(frame, algorithm, seed=7).membership, ref)


def test_raw_python_louvain_is_order_dependent(noisy):
    """The bug the test above guards against is real on this graph (so that test can fail)."""
    import community as community_louvain

    rnd = random.Random(0)
    edges = list(noisy.edges())
    rnd.shuffle(edges)
    nodes = list(noisy.nodes())
    rnd.shuffle(nodes)
    H = nx.Graph()
    H.add_nodes_from(nodes)
    H.add_edges_from(edges)
    a = community_louvain.best_partition(noisy, random_state=7)
    b = community_louvain.best_partition(H, random_state=7)
    keys = sorted(noisy)
    assert normalized_mutual_info_score([a[k] for k in keys], [b[k] for k in keys]) < 1.0


def test_directed_input_is_summed_into_undirected_weights():
    D = nx.DiGraph()
    D.add_edge("a", "b", weight=1.0)
    D.add_edge("b", "a", weight=2.0)
    for u, v in [("a", "c"), ("b", "c"), ("d", "e"), ("e", "f"), ("d", "f"), ("c", "d")]:
        D.add_edge(u, v, weight=1.0)
    p = detect(D, seed=1)
    assert p.membership.to_dict() == {"a": 0, "b": 0, "c": 0, "d": 1, "e": 1, "f": 1}
    U = nx.Graph()
    U.add_weighted_edges_from(
        [
            ("a", "b", 3.0),
            *[("a", "c", 1), ("b", "c", 1), ("d", "e", 1), ("e", "f", 1)],
            *[("d", "f", 1), ("c", "d", 1)],
        ]
    )
    assert p.modularity == pytest.approx(nx.community.modularity(U, p.communities()))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14), st.integers(1, 4)), min_size=1),
    st.integers(0, 2**16),
)
def test_partition_covers_every_node_exactly_once(edge_list, seed):
    """Property over random small weighted graphs (isolated nodes included)."""
    G = nx.Graph()
    G.add_nodes_from(range(15))
    G.add_weighted_edges_from((u, v, w) for u, v, w in edge_list if u != v)
    if G.number_of_edges() == 0:
        return
    p = detect(G, seed=seed)
    _check_partition(G, p)
    assert p.modularity == pytest.approx(nx.community.modularity(G, p.communities()), abs=1e-9)


def test_ids_ordered_by_size_then_smallest_member():
    # two triangles and a 4-clique: the clique is 0; the triangles tie on size -> smallest member
    G = nx.Graph()
    G.add_edges_from([("x", "y"), ("y", "z"), ("x", "z")])
    G.add_edges_from([("b", "c"), ("c", "d"), ("b", "d")])
    G.add_edges_from([(u, v) for u in "mnop" for v in "mnop" if u < v])
    p = detect(G, seed=3)
    assert p.communities() == [["m", "n", "o", "p"], ["b", "c", "d"], ["x", "y", "z"]]


# ---- engines, auto, errors ----------------------------------------------------------------------


def test_auto_uses_louvain_on_small_graphs_and_says_so():
    p = detect(nx.karate_club_graph(), "auto")
    assert p.algorithm == "louvain" and p.note and "python-louvain" in p.note
    assert p.parameters["algorithm"] == "auto" and p.parameters["engine"] == "louvain"


def test_auto_uses_fast_engine_above_threshold(monkeypatch):
    pytest.importorskip("igraph")
    monkeypatch.setattr(nc, "AUTO_MAX_EDGES", 10)
    p = detect(nx.karate_club_graph(), "auto", seed=1)
    assert p.algorithm == "multilevel" and "fast engine" in p.note


def test_auto_without_igraph_falls_back_and_says_why(monkeypatch):
    monkeypatch.setattr(nc, "AUTO_MAX_EDGES", 10)
    monkeypatch.setattr(nc, "_has", lambda module: False)
    p = detect(nx.karate_club_graph(), "auto")
    assert p.algorithm == "louvain" and "igraph is not installed" in p.note
    with pytest.raises(EngineUnavailable, match="needs igraph"):
        detect(nx.karate_club_graph(), "multilevel")


def test_leiden_is_igraphs_builtin_and_recovers_planted_communities(planted):
    pytest.importorskip("igraph")
    G, truth = planted
    p = detect(G, "leiden", seed=1)
    assert p.parameters["library"] == "igraph" and p.note is None
    assert _nmi(truth, p) >= 0.95
    assert detect(G, "leiden", seed=1).membership.equals(p.membership)  # seeded


def test_fast_engines_do_not_touch_the_global_rng(planted):
    pytest.importorskip("igraph")
    random.seed(5)
    expected = random.random()
    random.seed(5)
    detect(planted[0], "multilevel", seed=1)
    detect(planted[0], "leiden", seed=1)
    assert random.random() == expected


def test_same_seed_same_partition_different_seed_may_differ(noisy):
    pytest.importorskip("igraph")
    for algorithm in ENGINES:
        a = detect(noisy, algorithm, seed=1).membership
        pd.testing.assert_series_equal(a, detect(noisy, algorithm, seed=1).membership)


def test_resource_limit_suggests_the_fast_engine():
    with pytest.raises(ResourceLimit, match="--algorithm multilevel"):
        detect(nx.karate_club_graph(), "louvain", memory_limit=10_000)
    assert estimate_memory("multilevel", 100_000, 1_000_000) < estimate_memory(
        "louvain", 100_000, 1_000_000
    )


def test_empty_graphs_give_clear_errors():
    with pytest.raises(EmptyGraph, match="no nodes"):
        detect(nx.Graph())
    G = nx.Graph()
    G.add_nodes_from("abc")
    with pytest.raises(EmptyGraph, match="3 nodes but no weighted edges"):
        detect(G)
    with pytest.raises(EmptyGraph):
        detect(pd.DataFrame({"source": [], "target": [], "weight": []}))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"algorithm": "girvan"}, "unknown community algorithm 'girvan'"),
        ({"resolution": 0}, "resolution must be a number > 0"),
        ({"seed": -1}, "seed must be an integer from 0 to 4294967295"),
        ({"seed": 2**32}, "seed must be an integer from 0 to 4294967295"),  # louvain's limit
        ({"algorithm": "leiden", "seed": 2**70}, "seed must be an integer from 0"),
        ({"algorithm": "leiden", "n_iterations": -1}, "never -1"),
    ],
)
def test_bad_parameters_are_refused(kwargs, message):
    with pytest.raises(NetsupportError, match=message):
        detect(nx.karate_club_graph(), **kwargs)


@pytest.mark.parametrize("algorithm", ENGINES)
def test_resolution_changes_granularity_the_documented_way(planted, algorithm):
    """Larger resolution, smaller communities: for every engine, louvain included."""
    if algorithm != "louvain":
        pytest.importorskip("igraph")
    G, _ = planted
    coarse = detect(G, algorithm, resolution=0.05, seed=1)
    fine = detect(G, algorithm, resolution=4.0, seed=1)
    assert coarse.n_communities < 4 < fine.n_communities
    assert coarse.parameters["resolution"] == 0.05


def test_louvain_with_resolution_uses_networkx_and_says_why(planted):
    p = detect(planted[0], "louvain", resolution=0.5, seed=1)
    assert p.parameters["library"] == "networkx" and "inconsistently" in p.note
    assert detect(planted[0], "louvain", seed=1).parameters["library"] == "python-louvain"


def test_raw_python_louvain_resolution_below_one_fragments(planted):
    """Why louvain hands resolution != 1 to networkx: python-louvain 0.16 stops early below 1
    (taynaud/python-louvain#94). If this starts failing, python-louvain fixed it: revisit."""
    import community as community_louvain

    part = community_louvain.best_partition(planted[0], resolution=0.05, random_state=1)
    assert len(set(part.values())) > 100  # the planted graph has 4 communities


# ---- stability ----------------------------------------------------------------------------------


def test_matched_same_by_hand():
    ref = np.array([0, 0, 1, 1, 2])
    other = np.array([1, 1, 0, 0, 0])
    # 0->1 and 1->0 match (2 nodes each); ref community 2 has no partner left: node 4 moved
    assert nc._matched_same(ref, other).tolist() == [True, True, True, True, False]
    assert nc._matched_same(ref, np.array([5, 5, 3, 3, 9])).all()  # renumbering is not a change


def test_stability_of_a_clear_structure_is_perfect():
    s = stability(nx.barbell_graph(6, 0), "louvain", seeds=[1, 2, 3, 4])
    assert s["mean_pairwise_nmi"] == 1.0 and s["share_stable_nodes"] == 1.0
    assert s["runs"] == 4 and s["seeds"] == [1, 2, 3, 4] and s["n_communities"] == [2, 2, 2, 2]


def test_stability_on_a_noisy_graph_is_measured_not_assumed(noisy):
    s = stability(noisy, "louvain", seeds=5)
    assert s["seeds"] == [42, 43, 44, 45, 46]
    assert 0.3 < s["mean_pairwise_nmi"] < 1.0
    assert s["min_pairwise_nmi"] <= s["mean_pairwise_nmi"]
    assert 0.0 <= s["share_stable_nodes"] < 1.0


def test_stability_needs_two_distinct_seeds():
    with pytest.raises(NetsupportError, match="at least 2 runs"):
        stability(nx.karate_club_graph(), seeds=[1])
    with pytest.raises(NetsupportError, match="must differ"):
        stability(nx.karate_club_graph(), seeds=[1, 1])


# ---- tables -------------------------------------------------------------------------------------


@pytest.fixture
def two_groups():
    """Two triangles (a,b,c) and (d,e,f) joined by c->d; weights chosen to compute by hand."""
    D = nx.DiGraph()
    D.add_weighted_edges_from(
        [
            ("a", "b", 2.0),
            ("b", "c", 1.0),
            ("c", "a", 1.0),
            ("d", "e", 1.0),
            ("e", "f", 1.0),
            ("f", "d", 1.0),
            ("c", "d", 1.0),
        ]
    )
    return D


def test_community_table_by_hand(two_groups):
    p = detect(two_groups, seed=1)
    accounts = pd.DataFrame(
        {"handle": ["a", "b", "d", "zz"], "role": ["media", "unknown", "citizen", "media"]}
    )
    posts = pd.DataFrame(
        {
            "author": ["a", "b", "b", "d", "q"],
            "hashtags": ["lane police", "lane", None, "police", "lane"],
        }
    )
    t = community_table(two_groups, p, accounts, posts, top_n=2)
    assert t["community"].tolist() == [0, 1]
    assert t["size"].tolist() == [3, 3]
    # community 0 = a,b,c: inside 2+1+1 = 4, the c-d edge (1) is the only external weight
    assert t["internal_weight"].tolist() == [4.0, 3.0]
    assert t["external_weight"].tolist() == [1.0, 1.0]
    # m = 8; Q_c = L_c/m - (d_c/2m)^2: (4/8 - (9/16)^2), (3/8 - (7/16)^2)
    assert t["modularity_contribution"].tolist() == pytest.approx(
        [4 / 8 - (9 / 16) ** 2, 3 / 8 - (7 / 16) ** 2]
    )
    assert t["modularity_contribution"].sum() == pytest.approx(p.modularity)
    # strengths: a 3, b 3, c 3 -> ties by handle; d 3, e 2, f 2
    assert t["top_weighted_degree"].tolist() == ["a b", "d e"]
    assert t["top_hashtags"].tolist() == ["lane:2 police:1", "police:1"]  # q is in no community
    assert t["known_role_share"].tolist() == pytest.approx([1 / 3, 1 / 3])  # unknown is unknown
    assert set(t["top_pagerank"].iloc[0].split()) <= {"a", "b", "c"}


def test_community_table_without_accounts_or_posts_marks_not_measured(two_groups):
    t = community_table(two_groups, detect(two_groups, seed=1))
    assert t["known_role_share"].isna().all() and t["top_hashtags"].isna().all()


def test_modularity_matches_networkx():
    G = nx.karate_club_graph()
    p = detect(G, seed=4)
    for gamma in (0.5, 1.0, 2.0):
        assert modularity(G, p.membership, gamma) == pytest.approx(
            nx.community.modularity(G, p.communities(), resolution=gamma)
        )


# ---- the analysis behind `netsupport communities` -----------------------------------------------


def test_analyse_communities_end_to_end(tmp_path, graph_interactions, graph_windows):
    a = analyse_communities(
        graph_interactions, windows=graph_windows, window="crisis", seed=1, runs=3
    )
    # crisis kinds without marker: amy->lane, bob->amy, bob->lane (eve's marker is left out)
    assert a.info["n_nodes"] == 3 and a.info["n_edges"] == 3
    assert a.info["window"] == "crisis" and "marker" not in a.info["kinds"]
    assert a.nodes["handle"].tolist() == ["amy", "bob", "lane"]
    assert {"community", "pagerank", "in_degree", "stable"} <= set(a.nodes.columns)
    assert a.stability is not None and a.stability["runs"] == 3
    paths = write_community_outputs(a, tmp_path / "out")
    assert [p.name for p in paths] == ["nodes.csv", "communities.csv", "communities.json"]
    record = json.loads(paths[2].read_text())
    assert record["partition"]["algorithm"] == "louvain" and record["window"] == "crisis"
    # byte-stable: the same analysis gives the same files
    again = write_community_outputs(
        analyse_communities(
            graph_interactions.iloc[::-1], windows=graph_windows, window="crisis", seed=1, runs=3
        ),
        tmp_path / "again",
    )
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]


def test_analyse_communities_empty_window_is_a_clear_error(graph_interactions, graph_windows):
    with pytest.raises(EmptyWindow, match="window after"):
        analyse_communities(
            graph_interactions, windows=graph_windows, window="after", kinds=["reply"]
        )


def test_analyse_communities_uses_all_interactions_without_window(graph_interactions):
    a = analyse_communities(graph_interactions, kinds=None)
    edges = aggregate_edges(graph_interactions)
    assert a.info["n_edges"] == len(edges) and a.info["window"] is None
    assert a.partition.membership.index.tolist() == sorted(build_graph(edges).nodes)


# ---- CLI: netsupport communities ----------------------------------------------------------------

CRISIS = ["--crisis", "2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z"]


def _invoke(args):
    from typer.testing import CliRunner

    from netsupport.cli import app

    return CliRunner().invoke(app, args)


def test_cli_communities_prints_table_and_writes_outputs(tmp_path, graph_store):
    out = tmp_path / "comm"
    r = _invoke(
        [
            "communities",
            "--store",
            str(graph_store.root),
            *CRISIS,
            "--window",
            "crisis",
            "--runs",
            "3",
            "--out",
            str(out),
        ]
    )
    assert r.exit_code == 0, r.output
    header = r.stdout.splitlines()[0].split()
    assert header[:3] == ["community", "size", "internal_weight"]
    # (it read "louvain: 1 communities, ..."; counts on the command line agree with their noun)
    assert "louvain: 1 community, modularity" in r.stderr and "stability over 3 seeds" in r.stderr
    assert "(3 accounts, 3 edges)" in r.stderr
    nodes = pd.read_csv(out / "nodes.csv")
    assert nodes["handle"].tolist() == ["amy", "bob", "lane"]
    assert nodes["role"].tolist() == ["citizen", "unknown", "professional"]
    table = pd.read_csv(out / "communities.csv")
    assert table.loc[0, "top_hashtags"] == "standwithlane:2 police:1"
    assert table.loc[0, "known_role_share"] == pytest.approx(2 / 3, abs=1e-6)
    record = json.loads((out / "communities.json").read_text())
    assert record["stability"]["seeds"] == [42, 43, 44]


def test_cli_communities_takes_windows_store_and_defaults_from_the_study(tmp_path, graph_store):
    (tmp_path / "t.jsonl").write_text("")
    study = tmp_path / "study.toml"
    study.write_text(
        f"""
[study]
name = "t"
focal = ["lane"]
[windows]
crisis_start = "2014-02-14T09:00:00Z"
crisis_end = "2014-02-19T18:00:00Z"
[[inputs]]
path = "t.jsonl"
[communities]
algorithm = "auto"
seed = 5
[output]
store = "{graph_store.root}"
"""
    )
    r = _invoke(
        [
            "communities",
            "--study",
            str(study),
            "--window",
            "baseline",
            "--kinds",
            "reply,follow",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert r.exit_code == 0, r.output
    assert "auto:" in r.stderr  # the study's algorithm, and auto says what it chose
    record = json.loads((tmp_path / "o" / "communities.json").read_text())
    assert record["partition"]["parameters"]["seed"] == 5
    assert record["window"] == "baseline" and record["kinds"] == ["reply", "follow"]
    assert record["n_edges"] == 2  # amy->lane reply on 02-10, dan->amy structural follow


def test_cli_communities_errors(tmp_path, graph_store):
    r = _invoke(["communities", "--store", str(graph_store.root), "--algorithm", "girvan"])
    assert r.exit_code == 2 and "unknown community algorithm 'girvan'" in r.stderr
    r = _invoke(
        [
            "communities",
            "--store",
            str(graph_store.root),
            *CRISIS,
            "--window",
            "after",
            "--kinds",
            "repost",
        ]
    )
    assert r.exit_code == 2 and "has no interactions" in r.stderr
    r = _invoke(["communities"])
    assert r.exit_code == 2 and "--store is required" in r.stderr

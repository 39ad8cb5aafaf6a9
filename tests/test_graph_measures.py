"""netsupport.graph_measures: the communities step on integer codes gives, to the bit, what the
table functions give (graph.window_interactions + graph.aggregate_edges, support's
conversation_rows and crisis_pagerank, detect on the edge table, the consensus matched by
handle). Guards against the step's files changing when it got faster (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import support_fixture_study
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netsupport import communities as comm
from netsupport import graph
from netsupport.engine import write_arrow
from netsupport.graph import GraphArrays
from netsupport.graph_measures import (
    AMPLIFIER_KINDS,
    InteractionCodes,
    _aggregate,
    aggregate_codes,
    community_runs,
    consensus_partition,
    graph_arrays,
    graph_measures,
    nmi,
)
from netsupport.schema import IKind, Window
from netsupport.support import communities_from_edges, crisis_pagerank
from netsupport.support.proxies import conversation_rows

STUDY = support_fixture_study()  # crisis 14-16 Feb 2014, 4 days before and after
HANDLES = ["lane", "force", "a", "b", "c", "é", "Zed", "a b", None]
KINDS = [*(k.value for k in IKind), None, "unknown"]
START = pd.Timestamp("2014-02-09T00:00:00Z")
# hours from START: before the baseline, inside each window, on every bound, after the study
HOURS = [0, 23, 24, 30, 96, 119.5, 120, 140, 167, 168, 169, 200, 215, 216, 300, None]


@st.composite
def interactions(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 40))

    def col(values):
        return [draw(st.sampled_from(values)) for _ in range(n)]

    hours = col(HOURS)
    return pd.DataFrame(
        {
            "source": pd.Series(col(HANDLES), dtype=object),
            "target": pd.Series(col(HANDLES), dtype=object),
            "kind": pd.Series(col(KINDS), dtype=object),
            "post_id": pd.Series(col(["1", "2", "3", "40", None]), dtype=object),
            "created_at": pd.to_datetime(
                [None if h is None else START + pd.Timedelta(hours=h) for h in hours], utc=True
            ).as_unit("us"),
            "weight": pd.Series(col([1.0, 2.5, 0.5, None]), dtype="float64"),
        }
    )


WINDOWS = [None, Window.BASELINE, Window.CRISIS, Window.AFTER]
KIND_SETS = [None, AMPLIFIER_KINDS, (IKind.FOLLOW, IKind.REPLY)]


def _rows(df: pd.DataFrame, window: Window | None) -> pd.DataFrame:
    return df if window is None else graph.window_interactions(df, STUDY.windows, window)


def _same_arrays(a: GraphArrays, b: GraphArrays) -> None:
    assert a.nodes.dtype == b.nodes.dtype == object and a.nodes.tolist() == b.nodes.tolist()
    for x, y in ((a.src, b.src), (a.dst, b.dst), (a.weight, b.weight)):
        assert x.dtype == y.dtype and np.array_equal(x, y)
    assert a.directed == b.directed


@settings(max_examples=150, deadline=None)
@given(interactions(), st.sampled_from(WINDOWS), st.sampled_from(KIND_SETS))
def test_codes_aggregate_to_the_edges_aggregate_edges_makes(df, window, kinds):
    """The same frame, bit for bit (pair order, count columns, weight sums), and the same
    directed arrays as GraphArrays.from_edges of it."""
    codes = InteractionCodes.from_frame(df)
    mask = None if window is None else codes.window(STUDY.windows, window)
    got, arrays = _aggregate(codes, mask, kinds)
    ref = graph.aggregate_edges(_rows(df, window), kinds)
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert got.columns.tolist() == ref.columns.tolist()
    if ref.empty:
        assert arrays is None
    else:
        _same_arrays(arrays, GraphArrays.from_edges(ref))


@settings(max_examples=100, deadline=None)
@given(interactions(), st.sampled_from(WINDOWS))
def test_window_masks_select_the_rows_window_interactions_selects(df, window):
    if window is None:
        return
    mask = InteractionCodes.from_frame(df).window(STUDY.windows, window)
    pd.testing.assert_frame_equal(df[mask].reset_index(drop=True), _rows(df, window))


@settings(max_examples=150, deadline=None)
@given(interactions())
def test_conversation_selects_the_rows_conversation_rows_selects(df):
    codes = InteractionCodes.from_frame(df)
    crisis = codes.window(STUDY.windows, Window.CRISIS)
    mask = codes.conversation(crisis, {*STUDY.focal, *STUDY.institution})
    ref = conversation_rows(_rows(df, Window.CRISIS), STUDY)
    pd.testing.assert_frame_equal(df[mask].reset_index(drop=True), ref.reset_index(drop=True))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interactions(), st.sampled_from(WINDOWS), st.sampled_from(KIND_SETS))
@example(  # every end null: no handle at all (this once raised an IndexError)
    pd.DataFrame(
        {
            "source": pd.Series([None], dtype=object),
            "target": pd.Series([None], dtype=object),
            "kind": ["reply"],
            "post_id": ["1"],
            "created_at": pd.to_datetime(["2014-02-09"], utc=True),
            "weight": [1.0],
        }
    ),
    None,
    None,
)
def test_codes_read_from_the_arrow_file_give_the_same_edges(df, window, kinds):
    """from_arrow (Arrow's dictionaries, sorted by UTF-8 bytes; only the rows up to the crisis
    end) gives the edges from_frame (pandas' sorted factorize) gives, and the conversation."""
    with tempfile.TemporaryDirectory() as d:
        path = write_arrow(df, Path(d) / "i.arrow")
        lean = InteractionCodes.from_arrow(path, STUDY.windows)
        whole = InteractionCodes.from_arrow(path)
    frame = InteractionCodes.from_frame(df)
    sides = {*STUDY.focal, *STUDY.institution}
    for codes in (lean, whole):
        if not (codes is lean and window in (None, Window.AFTER)):
            # (lean holds only the rows up to the crisis end: the step reads no other window)
            mask = None if window is None else codes.window(STUDY.windows, window)
            ref_mask = None if window is None else frame.window(STUDY.windows, window)
            pd.testing.assert_frame_equal(
                aggregate_codes(codes, mask, kinds),
                aggregate_codes(frame, ref_mask, kinds),
                check_exact=True,
            )
        talk = codes.conversation(codes.window(STUDY.windows, Window.CRISIS), sides)
        ref = frame.conversation(frame.window(STUDY.windows, Window.CRISIS), sides)
        pd.testing.assert_frame_equal(
            aggregate_codes(codes, talk, AMPLIFIER_KINDS),
            aggregate_codes(frame, ref, AMPLIFIER_KINDS),
            check_exact=True,
        )


def test_handles_sort_in_python_order_from_arrow_too(tmp_path):
    """Arrow sorts the handles by their UTF-8 bytes: Python's str order (code points), not
    a locale's."""
    names = ["b", "B", "é", "e", "z", "Ω", "a_1", "a", "😀", "ａ"]
    df = pd.DataFrame(
        {
            "source": names,
            "target": names[::-1],
            "kind": "reply",
            "created_at": pd.to_datetime(["2014-02-10T00:00Z"] * len(names), utc=True),
        }
    )
    codes = InteractionCodes.from_arrow(write_arrow(df, tmp_path / "i.arrow"))
    assert codes.handles.tolist() == sorted(names)
    assert codes.handles.tolist() == InteractionCodes.from_frame(df).handles.tolist()


@st.composite
def partitions(draw):
    nodes = list("abcdefghij")
    m = draw(st.integers(1, 25))
    pairs = [tuple(draw(st.permutations(nodes))[:2]) for _ in range(m)]
    edges = pd.DataFrame(pairs, columns=["source", "target"]).drop_duplicates()
    edges = edges.assign(weight=1.0).reset_index(drop=True)
    ug = graph_arrays(edges)
    k = draw(st.integers(1, 4))
    runs = [
        pd.Series(
            [draw(st.integers(0, 3)) for _ in ug.nodes],
            index=pd.Index(ug.nodes, dtype=object, name="handle"),
            name="community",
        )
        for _ in range(k)
    ]
    return edges, ug, runs, draw(st.sampled_from([0.3, 0.5, 0.6, 1.0]))


@settings(max_examples=150, deadline=None)
@given(partitions())
def test_consensus_from_the_graphs_pairs_is_the_consensus_matched_by_handle(case):
    edges, ug, runs, threshold = case
    pd.testing.assert_series_equal(
        consensus_partition(edges, runs, threshold, ug),
        consensus_partition(edges, runs, threshold),
        check_exact=True,
    )


def test_consensus_matches_by_handle_when_the_runs_cover_other_nodes():
    e = pd.DataFrame({"source": ["a", "b", "c"], "target": ["b", "c", "d"], "weight": 1.0})
    r1 = pd.Series({"a": 0, "b": 0, "c": 1, "d": 1, "x": 2})  # x: not in the graph
    r2 = pd.Series({"a": 0, "b": 0, "c": 0, "d": 1, "x": 2})
    got = consensus_partition(e, [r1, r2], 0.6, graph_arrays(e))
    assert got.to_dict() == {"a": 0, "b": 0, "c": 1, "d": 2, "x": 3}


def test_one_igraph_graph_serves_every_seed():
    edges = pd.DataFrame({"source": list("abcab"), "target": list("bcdde"), "weight": 1.0})
    ug = graph_arrays(edges)
    assert ug.to_igraph() is ug.to_igraph()
    for algorithm in ("leiden", "multilevel"):
        for seed in (1, 2, 3):
            again = comm.detect(edges, algorithm, 1.0, seed).membership
            kept = comm._detect_prepared(ug, algorithm, 1.0, seed, comm.LEIDEN_ITERATIONS, None)
            pd.testing.assert_series_equal(kept.membership, again)


def _old_step(inter: pd.DataFrame, study) -> tuple:
    """The step as it was computed from the study's interactions before graph_measures: the
    baseline edges of graph.baseline_edges, detect on the edge table, support.crisis_pagerank
    on the frame, a fresh detection per grid seed and the consensus matched by handle."""
    edges = graph.baseline_edges(inter, study.windows)
    membership, m_info = communities_from_edges(edges, study)
    pagerank, p_info = crisis_pagerank(inter, study)
    return membership, m_info, pagerank, p_info, community_runs(edges, study, membership), edges


def _assert_same_step(a: tuple, b: tuple) -> None:
    for x, y in ((a[0], b[0]), (a[2], b[2])):
        if x is None or y is None:
            assert x is None and y is None
        else:
            pd.testing.assert_series_equal(x, y, check_exact=True)
    assert a[1] == b[1] and a[3] == b[3]
    if a[4] is None or b[4] is None:
        assert a[4] is None and b[4] is None
    else:
        assert a[4].info == b[4].info
        ours, theirs = [*a[4].partitions, a[4].consensus], [*b[4].partitions, b[4].consensus]
        for p, q in zip(ours, theirs, strict=True):
            pd.testing.assert_series_equal(p, q, check_exact=True)
    pd.testing.assert_frame_equal(a[5], b[5], check_exact=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interactions())
def test_the_step_on_codes_gives_the_old_steps_results(df):
    _assert_same_step(graph_measures(InteractionCodes.from_frame(df), STUDY), _old_step(df, STUDY))


def test_the_step_on_codes_gives_the_old_steps_results_on_the_example(tmp_path):
    from netsupport.stance import read_tables, stance_interactions
    from netsupport.study import run_study
    from netsupport.studyfile import load_study

    example = Path(__file__).parent.parent / "data" / "example"
    if not (example / "study.toml").is_file():
        pytest.skip("data/example is not there")
    import shutil

    shutil.copytree(example, tmp_path / "ex")
    toml = tmp_path / "ex" / "study.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace('dir = "../../reports/example"', 'dir = "out"'), "utf-8")
    run_study(toml, jobs=1, clock=lambda: "2026-01-01T00:00:00Z")
    study = load_study(toml)
    inter = stance_interactions(read_tables(study.store_dir), study)
    old = _old_step(inter, study)
    assert old[0] is not None and old[2] is not None and old[4] is not None
    _assert_same_step(graph_measures(InteractionCodes.from_frame(inter), study), old)
    lean = InteractionCodes.from_arrow(write_arrow(inter, tmp_path / "i.arrow"), study.windows)
    assert len(lean) < len(inter)  # (the example has rows after the crisis)
    _assert_same_step(graph_measures(lean, study), old)


def test_the_child_imports_igraph_without_matplotlib():
    """The communities step's child imports igraph without the matplotlib igraph imports for
    plotting (~0.3 CPU-s); matplotlib is still importable afterwards."""
    code = (
        "import sys\n"
        "from netsupport.engine import _import_igraph_without_plotting as f\n"
        "f()\n"
        "assert 'igraph' in sys.modules, 'igraph'\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
        "import igraph\n"
        "g = igraph.Graph.Famous('Zachary')\n"
        "assert len(g.community_leiden(objective_function='modularity')) > 1\n"
        "import matplotlib.pyplot\n"
    )
    import netsupport

    env = {**os.environ, "PYTHONPATH": str(Path(netsupport.__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


@st.composite
def labellings(draw):
    n = draw(st.integers(0, 300))
    k1, k2 = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    a = draw(st.lists(st.integers(0, k1), min_size=n, max_size=n))
    b = draw(st.lists(st.integers(-3, k2), min_size=n, max_size=n))
    return np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)


@settings(max_examples=300, deadline=None)
@given(labellings())
def test_nmi_is_sklearns_to_the_bit(case):
    from sklearn.metrics import normalized_mutual_info_score

    a, b = case
    for x, y in ((a, b), (b, a), (a, a), (pd.Series(a), pd.Series(b))):
        ours, theirs = nmi(x, y), normalized_mutual_info_score(x, y)
        assert type(ours) is float and ours == theirs  # (==: the same bits, not approximately)


def test_nmi_of_big_partitions_is_sklearns_to_the_bit():
    from sklearn.metrics import normalized_mutual_info_score

    rng = np.random.default_rng(5)
    a = rng.integers(0, 120, 100_000)
    b = np.where(rng.random(100_000) < 0.9, a, rng.integers(0, 130, 100_000))
    assert nmi(a, b) == normalized_mutual_info_score(a, b)
    assert 0.5 < nmi(a, b) < 1


def test_nmi_refuses_missing_labels_as_sklearn_does():
    with pytest.raises(ValueError):
        nmi(pd.Series([0, 1, None]), pd.Series([0, 1, 1]))


@st.composite
def directed_graphs(draw):
    n = draw(st.integers(1, 30))
    nodes = [f"n{i:02d}" for i in range(n)]
    m = draw(st.integers(0, 80))
    pairs = {(draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))) for _ in range(m)}
    weights = [draw(st.sampled_from([1.0, 2.0, 0.5, 3.25, 1e-3])) for _ in pairs]
    edges = pd.DataFrame(sorted(pairs), columns=["source", "target"]).assign(weight=weights)
    extra = nodes if draw(st.booleans()) or not pairs else []  # isolated (dangling) nodes too
    return GraphArrays.from_edges(edges, nodes=extra)


@settings(max_examples=200, deadline=None)
@given(directed_graphs(), st.sampled_from([0.85, 0.5]))
def test_pagerank_on_the_arrays_is_networkxs_to_the_bit(arrays, alpha):
    import networkx as nx

    from netsupport.graph import _one_edge_per_pair, _pagerank_networkx_arrays

    assert _one_edge_per_pair(arrays)
    pr = nx.pagerank(arrays.to_networkx(), alpha=alpha, weight="weight", tol=1e-12, max_iter=10**4)
    ref = np.asarray([pr[n] for n in arrays.nodes.tolist()], dtype=float)
    got = _pagerank_networkx_arrays(arrays, alpha=alpha, tol=1e-12)
    assert got.dtype == ref.dtype and np.array_equal(got, ref)  # (the same bits)
    via = graph.pagerank(arrays, alpha=alpha, engine="networkx")
    assert via.to_numpy().tolist() == ref.tolist()


def test_pagerank_of_repeated_pairs_is_left_to_networkx():
    """A frame with one pair twice (not aggregated) is not the DiGraph networkx builds (there,
    the last weight wins): networkx computes it."""
    from netsupport.graph import _one_edge_per_pair

    edges = pd.DataFrame({"source": ["a", "a", "b"], "target": ["b", "b", "a"], "weight": 1.0})
    assert not _one_edge_per_pair(GraphArrays.from_edges(edges))
    assert graph.pagerank(edges).sum() == pytest.approx(1.0)


def test_mobilisation_records_the_undirected_edges_its_mean_degree_counts():
    """Guards review t7 W3: mobilisation.edges (1,643 on the example) counts directed (source,
    target) pairs, while mean_degree = 2 E / N uses the 1,629 undirected edges: a -> b and
    b -> a are one edge of the graph communities are found on. By hand: pairs ab, ba, ac, cd
    = 4 directed, 3 undirected, 4 accounts: mean degree 2 * 3 / 4 = 1.5."""
    from types import SimpleNamespace

    edges = pd.DataFrame({"source": list("abac"), "target": list("bacd"), "weight": 1.0})
    study = SimpleNamespace(
        communities=SimpleNamespace(algorithm="leiden", resolution=1.0, seed=42)
    )
    _, info = communities_from_edges(edges, study)
    assert (info["edges"], info["undirected_edges"], info["nodes"]) == (4, 3, 4)
    assert info["mean_degree"] == 2 * info["undirected_edges"] / info["nodes"] == 1.5

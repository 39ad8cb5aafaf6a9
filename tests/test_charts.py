"""Tests for netsupport.charts: every chart renders, byte-stable PNG/SVG, sampling, edge cases."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.image as mpimg
import networkx as nx
import numpy as np
import pandas as pd
import pytest

from netsupport import charts
from netsupport.windows import Windows

W = Windows.from_crisis("2014-02-14T09:00:00Z", "2014-02-19T18:00:00Z", 14, 14)


def _attention_counts() -> pd.DataFrame:
    rows = []
    for i, day in enumerate(pd.date_range("2014-01-31", "2014-03-05", freq="D", tz="UTC")):
        for target in ("focal", "institution"):
            for j, stance in enumerate(("supportive", "neutral", "critical")):
                rows.append(
                    (day, target, stance, (i * 7 + j * 3) % 5 + (20 if 14 <= i <= 19 else 0))
                )
    return pd.DataFrame(rows, columns=["time", "target", "stance", "count"])


def _graph() -> tuple[nx.DiGraph, dict, dict]:
    g = nx.DiGraph()
    for i in range(40):
        g.add_edge(f"u{i:02d}", "lane", weight=1.0 + i % 3)
        g.add_edge(f"u{i:02d}", f"u{(i + 1) % 40:02d}", weight=1.0)
        if i % 4 == 0:
            g.add_edge(f"u{i:02d}", "force", weight=1.0)
    pr = nx.pagerank(g)
    membership = {n: int(n[1:]) % 9 for n in g if n.startswith("u")}
    membership["lane"] = 0
    return g, membership, pr


def _all_figures():
    g, membership, pr = _graph()
    mob = pd.DataFrame(
        {
            "community": [0, 1, 2],
            "label": ["Community 1", "Community 2", "Community 3"],
            "members": [30, 20, 10],
            "active_share": [0.6, 0.2, np.nan],
            "active_lo": [0.5, 0.1, np.nan],
            "active_hi": [0.7, 0.3, np.nan],
            "supportive_share": [0.9, 0.4, np.nan],
            "supportive_lo": [0.8, 0.2, np.nan],
            "supportive_hi": [0.95, 0.6, np.nan],
        }
    )
    comp = pd.DataFrame(
        {
            "window": ["crisis", "baseline", "after"],
            "prior_tie": [68, 10, 20],
            "newcomer": [32, 0, 5],
        }
    )
    net = pd.DataFrame(
        {
            "window": ["baseline", "crisis", "after", "baseline", "crisis"],
            "target": ["focal", "focal", "focal", "institution", "institution"],
            "net": [0.2, 0.6, 0.4, 0.0, -0.5],
            "lo": [0.1, 0.5, 0.3, -0.1, -0.6],
            "hi": [0.3, 0.7, 0.5, 0.1, -0.4],
        }
    )
    roles = pd.DataFrame(
        {
            "time": pd.to_datetime(["2014-02-14", "2014-02-15", "2014-02-15"], utc=True),
            "role": ["citizen", "media", "citizen"],
            "count": [5, 2, 7],
        }
    )
    first = {"citizen": W.crisis_start + pd.Timedelta(hours=2), "media": pd.NaT}
    return {
        "attention": charts.attention_timeline(
            _attention_counts(),
            W,
            focal_label="@lane",
            institution_label="@force",
            silence=(W.crisis_start, W.crisis_end),
        ),
        "network": charts.network_map(
            g,
            membership=membership,
            pagerank=pr,
            focal=["lane"],
            institution=["force"],
            proxies=["u03"],
            max_nodes=30,
        ),
        "mobilisation": charts.community_mobilisation(mob, focal_label="@lane"),
        "composition": charts.supporter_composition(comp, focal_label="@lane"),
        "net": charts.net_support_chart(net, focal_label="@lane", institution_label="@force"),
        "roles": charts.roles_timeline(roles, W, focal_label="@lane", first_mentions=first),
    }


def test_every_chart_renders_png_and_svg_byte_identically_twice(tmp_path):
    first = {
        k: {f: charts.figure_bytes(fig, f) for f in ("png", "svg")}
        for k, fig in _all_figures().items()
    }
    second = {
        k: {f: charts.figure_bytes(fig, f) for f in ("png", "svg")}
        for k, fig in _all_figures().items()
    }
    for name in first:
        for fmt in ("png", "svg"):
            assert first[name][fmt] == second[name][fmt], f"{name}.{fmt} differs between runs"
        png = first[name]["png"]
        assert png.startswith(b"\x89PNG")
        assert b"Software" not in png and b"Matplotlib version" not in png
        img = mpimg.imread(io.BytesIO(png), format="png")
        assert img.shape[1] == 1500, name  # 10 in at 150 dpi: readable at 100% zoom
        svg = first[name]["svg"].decode()
        assert "<dc:date>" not in svg  # no wall-clock date in the SVG metadata


def test_png_and_svg_laid_out_once_give_the_png_of_figure_bytes_and_a_stable_svg():
    """figure_png_svg lays a figure out once for both formats: the PNG must stay the bytes of
    figure_bytes (the report's PNGs did not change), the SVG the same on every run."""
    first = {k: charts.figure_png_svg(fig) for k, fig in _all_figures().items()}
    second = {k: charts.figure_png_svg(fig) for k, fig in _all_figures().items()}
    alone = {k: charts.figure_bytes(fig, "png") for k, fig in _all_figures().items()}
    for name, (png, svg) in first.items():
        assert png == alone[name], f"{name}.png differs from figure_bytes"
        assert (png, svg) == second[name], f"{name} differs between runs"
        assert svg.lstrip().startswith(b"<?xml") and b"<dc:date>" not in svg


def test_save_figure_writes_both_formats(tmp_path):
    fig = _all_figures()["composition"]
    paths = charts.save_figure(fig, tmp_path / "charts" / "composition")
    assert {p.name for p in paths.values()} == {"composition.png", "composition.svg"}
    assert paths["svg"].read_text().lstrip().startswith("<?xml")
    assert [p.name for p in (tmp_path / "charts").iterdir() if p.name.startswith(".")] == []


def test_svg_title_metadata_is_escaped():
    fig = charts.supporter_composition(
        pd.DataFrame({"window": ["crisis"], "prior_tie": [1], "newcomer": [1]}),
        focal_label="@<script>",
    )
    svg = charts.figure_bytes(fig, "svg").decode()
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_dollar_signs_in_handles_are_not_mathtext():
    # a handle such as "a$b$" would raise a mathtext parse error or render as maths if parsed
    fig = charts.supporter_composition(
        pd.DataFrame({"window": ["crisis"], "prior_tie": [3], "newcomer": [1]}),
        focal_label="@a$\\frac{}$",
    )
    assert charts.figure_bytes(fig, "png").startswith(b"\x89PNG")
    assert "@a$\\frac{}$" in fig.get_suptitle()


def test_network_map_samples_large_graph_and_keeps_named_accounts():
    g = nx.gnm_random_graph(400, 1200, seed=1, directed=True)
    g = nx.relabel_nodes(g, {n: f"n{n:03d}" for n in g})
    g.add_edge("n000", "lane")
    pr = nx.pagerank(g)
    fig = charts.network_map(
        g, membership={}, pagerank=pr, focal=["lane"], proxies=["n001"], max_nodes=60
    )
    subtitle = " ".join(fig.axes[0].get_title(loc="left").split())
    assert "60 of 401 accounts shown" in subtitle
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "@lane" in texts and "@n001 (proxy)" in texts


def test_sample_nodes_is_connected_order_independent_and_keeps_named_nodes():
    g1 = nx.Graph([("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("x", "y")])
    g2 = nx.Graph([("x", "y"), ("d", "e"), ("c", "d"), ("b", "c"), ("a", "b")])
    pr = {"a": 0.05, "b": 0.3, "c": 0.3, "d": 0.2, "e": 0.05, "x": 0.9, "y": 0.9}
    # grown from the low-PageRank named node "e"; "x"/"y" rank highest but are not connected
    s1 = charts.sample_nodes(g1, pr, keep=["e", "zz"], max_nodes=3)
    assert s1 == charts.sample_nodes(g2, pr, keep=["e", "zz"], max_nodes=3) == ["c", "d", "e"]
    # without a named node present it starts from the top PageRank node (tie broken by name)
    assert charts.sample_nodes(g1, pr, keep=["zz"], max_nodes=5) == ["x", "y"]


def test_network_layout_is_seeded():
    g, membership, pr = _graph()
    kwargs = dict(membership=membership, pagerank=pr, focal=["lane"], institution=["force"])
    a = charts.figure_bytes(charts.network_map(g, seed=1, **kwargs), "png")
    b = charts.figure_bytes(charts.network_map(g.reverse(copy=True), seed=1, **kwargs), "png")
    c = charts.figure_bytes(charts.network_map(g, seed=2, **kwargs), "png")
    assert a == b  # the layout uses the undirected sample with sorted insertion
    assert a != c


@pytest.mark.parametrize(
    "make",
    [
        lambda: charts.attention_timeline(
            pd.DataFrame(columns=["time", "target", "stance", "count"]),
            W,
            focal_label="@x",
            institution_label="@y",
        ),
        lambda: charts.network_map(nx.DiGraph(), membership={}, pagerank={}, focal=["x"]),
        lambda: charts.community_mobilisation(
            pd.DataFrame(columns=["community", "label", "members"]), focal_label="@x"
        ),
        lambda: charts.supporter_composition(
            pd.DataFrame(columns=["window", "prior_tie", "newcomer"]), focal_label="@x"
        ),
        lambda: charts.net_support_chart(
            pd.DataFrame(columns=["window", "target", "net", "lo", "hi"]), focal_label="@x"
        ),
        lambda: charts.roles_timeline(
            pd.DataFrame(columns=["time", "role", "count"]), W, focal_label="@x"
        ),
    ],
    ids=["attention", "network", "mobilisation", "composition", "net", "roles"],
)
def test_empty_inputs_draw_a_plain_message_not_a_crash(make):
    fig = make()
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    png = charts.figure_bytes(fig, "png")
    assert png.startswith(b"\x89PNG")
    if fig.axes and texts:
        assert any(t.startswith("No ") or "not measured" in t for t in texts)


def test_colours_are_okabe_ito():
    assert set(charts.STANCE_COLOURS.values()) - {"#C8C8C8"} <= set(charts.OKABE_ITO.values())
    assert set(charts.COMMUNITY_COLOURS) <= set(charts.OKABE_ITO.values())
    assert charts.community_colour(7) == charts.GREY


def test_bin_width_rejects_unknown():
    with pytest.raises(ValueError, match="time bin"):
        charts.bin_width("W")


def test_hourly_bins_for_a_short_study():
    w = Windows.from_crisis("2014-02-14T09:00:00Z", "2014-02-14T21:00:00Z", 1, 1)
    hours = pd.date_range("2014-02-13T09:00Z", "2014-02-15T20:00Z", freq="h")
    counts = pd.DataFrame(
        {"time": hours, "target": "focal", "stance": "supportive", "count": range(len(hours))}
    )
    fig = charts.attention_timeline(counts, w, focal_label="@x", freq="h")
    # the bars count posts addressing the side, not interaction rows (review t5 #15)
    assert fig.axes[0].get_ylabel() == "Posts addressing it per hour"
    roles = pd.DataFrame({"time": hours, "role": "citizen", "count": 1})
    fig2 = charts.roles_timeline(
        roles, w, focal_label="@x", first_mentions={"citizen": w.crisis_start}, freq="h"
    )
    assert fig2.axes[0].get_ylabel() == "Posts addressing it per hour"
    assert fig2.get_suptitle() == "Who carried the story: posts addressing @x by role"
    for f in (fig, fig2):
        assert charts.figure_bytes(f, "png").startswith(b"\x89PNG")


def _reference_sample(graph: nx.Graph, pagerank: dict, keep, max_nodes: int) -> list[str]:
    """The networkx sampler the array version replaced (issue 17): the sample must not move."""
    import heapq

    def rank(n):
        return (-float(pagerank.get(n, 0.0)), str(n))

    und = graph.to_undirected(as_view=True) if graph.is_directed() else graph
    seeds = [n for n in dict.fromkeys(keep) if n in graph]
    if not seeds and graph.number_of_nodes():
        seeds = [min(graph.nodes, key=rank)]
    chosen = set(seeds)
    heap: list = []

    def push(n):
        for m in und.neighbors(n):
            if m not in chosen:
                heapq.heappush(heap, (rank(m), m))

    for n in sorted(seeds, key=str):
        push(n)
    while heap and len(chosen) < max_nodes:
        _, n = heapq.heappop(heap)
        if n not in chosen:
            chosen.add(n)
            push(n)
    return sorted(chosen, key=str)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_array_sample_equals_the_networkx_sampler_with_pagerank_ties(seed):
    g = nx.gnm_random_graph(300, 700, seed=seed, directed=True)
    g = nx.relabel_nodes(g, {n: f"a{n}" for n in g})  # "a10" < "a9": str order, not numeric
    g.add_edge("a5", "a5")  # a self-loop is no neighbour
    g.remove_nodes_from(list(nx.isolates(g)))  # an edge table has none
    rng = np.random.default_rng(seed)
    pr = {n: float(rng.integers(0, 4)) / 10 for n in g}  # many ties: broken by name
    for keep, k in ((["a7", "zz"], 40), ([], 25), (["a1", "a2"], 300)):
        want = _reference_sample(g, pr, keep, k)
        assert charts.sample_nodes(g, pr, keep=keep, max_nodes=k) == want
        edges = pd.DataFrame(list(g.edges()), columns=["source", "target"])
        assert charts.sample_nodes(edges, pd.Series(pr), keep=keep, max_nodes=k) == want


def test_network_map_from_edge_table_is_byte_identical_to_networkx_graph():
    g, membership, pr = _graph()
    g.add_edge("lane", "u01", weight=2.0)  # both directions: weights summed on the map
    kwargs = dict(membership=membership, focal=["lane"], institution=["force"], proxies=["u03"])
    want = charts.figure_bytes(charts.network_map(g, pagerank=pr, max_nodes=30, **kwargs), "png")
    edges = pd.DataFrame(
        [(u, v, d["weight"]) for u, v, d in g.edges(data=True)],
        columns=["source", "target", "weight"],
    ).iloc[::-1]  # row order must not matter
    got = charts.figure_bytes(
        charts.network_map(edges, pagerank=pd.Series(pr), max_nodes=30, **kwargs), "png"
    )
    assert got == want


def test_layout_cache_returns_the_computed_positions_bit_for_bit(tmp_path):
    nodes = [f"n{i}" for i in range(12)]
    edges = {(nodes[i], nodes[i + 1]): 1.0 for i in range(11)}
    anchors = {"n0": (-0.4, 0.0)}
    fresh = charts._layout(nodes, edges, 7, anchors)
    first = charts._layout(nodes, edges, 7, anchors, cache=tmp_path)
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    second = charts._layout(nodes, edges, 7, anchors, cache=tmp_path)
    for n in nodes:
        assert fresh[n].tolist() == first[n].tolist() == second[n].tolist()
    # the second call read the file: a changed file shows through (the key names the inputs)
    files[0].write_text(files[0].read_text().replace(repr(float(fresh["n3"][0])), "0.5"))
    assert charts._layout(nodes, edges, 7, anchors, cache=tmp_path)["n3"][0] == 0.5
    # other inputs, another key; a corrupt file is recomputed, not trusted
    charts._layout(nodes, edges, 8, anchors, cache=tmp_path)
    assert len(list(tmp_path.glob("*.json"))) == 2
    files[0].write_text("{")
    again = charts._layout(nodes, edges, 7, anchors, cache=tmp_path)
    assert again["n3"].tolist() == fresh["n3"].tolist()


def test_layout_cache_keeps_the_most_recently_used_layouts_and_nothing_else(tmp_path, monkeypatch):
    """The cache is capped (LAYOUT_CACHE_KEEP): writing a layout removes the least recently
    used beyond the cap (a layout read back counts as used); other files are never touched."""
    import os

    stranger = tmp_path / "notes.json"
    stranger.write_text("{}")
    nodes = ["a", "b", "c"]
    edges = {("a", "b"): 1.0, ("b", "c"): 1.0}
    keep = 3
    paths = []
    for seed in range(keep):
        charts._layout(nodes, edges, seed, {}, cache=tmp_path)
        (new,) = set(tmp_path.glob("????*.json")) - set(paths) - {stranger}
        os.utime(new, ns=(10**18 + seed, 10**18 + seed))  # oldest first, deterministic
        paths.append(new)
    # reading seed 0 back makes it the most recent; the next write then drops seed 1
    charts._layout(nodes, edges, 0, {}, cache=tmp_path)
    assert paths[0].stat().st_mtime_ns > paths[2].stat().st_mtime_ns
    monkeypatch.setattr(charts, "LAYOUT_CACHE_KEEP", keep)
    charts._layout(nodes, edges, 99, {}, cache=tmp_path)
    left = set(tmp_path.iterdir())
    assert stranger in left and paths[0] in left and paths[2] in left
    assert paths[1] not in left
    assert len(left) == keep + 1
    assert charts.prune_layouts(tmp_path, keep=0) and list(tmp_path.iterdir()) == [stranger]


def test_net_support_subtitle_says_accounts_as_plotted():
    # review t5 #10: the chart plots account-level net support (report_charts.net_support_frame)
    # but its subtitle said "more supportive than critical interactions" (posts)
    net = pd.DataFrame(
        {"window": ["baseline", "crisis"], "target": ["focal"] * 2, "net": [0.1, 0.5]}
    ).assign(lo=np.nan, hi=np.nan)
    ax = charts.net_support_chart(net, focal_label="@l").axes[0]
    sub = ax.get_title(loc="left")
    assert sub.startswith("Above zero: more accounts mostly supportive than mostly critical")
    assert "interactions" not in sub and "% of accounts" in ax.get_ylabel()
    assert sub.endswith("A missing point: not measured (no account addressed the side).")


def _role_counts() -> pd.DataFrame:
    days = pd.date_range("2014-02-13", "2014-02-18", freq="D", tz="UTC") + pd.Timedelta(hours=9)
    return pd.DataFrame(
        [
            (d, r, 80 if (r == "professional" and i == 2) else 5)
            for i, d in enumerate(days)
            for r in ("professional", "citizen", "media")
        ],
        columns=["time", "role", "count"],
    )


def test_roles_lower_panel_plots_new_accounts_medians_not_the_first_post():
    # review t5 #11: the panel showed each role's first crisis post (professionals 1 min, an
    # order statistic METHODS.md rejects) under text giving medians of new accounts (22.0 h)
    first = {"professional": "2014-02-14T09:01:00Z", "media": "2014-02-15T10:00:00Z"}
    fig = charts.roles_timeline(
        _role_counts(),
        W,
        focal_label="@l",
        first_mentions=first,
        medians={"professional": (22.016389, 43), "media": (54.200278, 12)},
        too_few={"institution": 2},
    )
    low = fig.axes[1]
    assert low.get_title(loc="left") == (
        "Median time to the first post, accounts new to the conversation "
        "(left out: institution, 2 new accounts)"
    )
    assert [t.get_text() for t in low.texts] == [
        "22.0 h (43 new accounts)",
        "54.2 h (12 new accounts)",  # t13 #3: hours with one decimal, as the axis, not "2 d 6 h"
    ]
    assert low.get_xlabel() == "Hours after the crisis began"
    assert [t.get_text() for t in low.get_yticklabels()] == ["Professional", "Media"]


def test_roles_lower_panel_without_medians_says_it_is_the_earliest_single_post():
    first = {"professional": "2014-02-14T09:01:00Z", "media": "2014-02-15T10:00:00Z"}
    fig = charts.roles_timeline(_role_counts(), W, focal_label="@l", first_mentions=first)
    low = fig.axes[1]
    assert low.get_title(loc="left").startswith("Earliest single post of each role")
    assert [t.get_text() for t in low.texts] == ["<0.1 h", "25.0 h"]  # (the axis's unit)


def test_roles_legend_is_beside_the_lines_not_over_them():
    # review t5 #11/#17: the legend, inside the axes at the upper left, hid the professional
    # line's peak (80 a day)
    fig = charts.roles_timeline(_role_counts(), W, focal_label="@l")
    charts.figure_png_svg(fig)  # laid out as in the report
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert legend.x0 >= ax.bbox.x1 and legend.x1 <= fig.bbox.x1


def test_date_axes_carry_the_year_on_the_month_tick_not_in_an_offset_label():
    # review t5 #17: Figures 1, 6 and 8 showed a redundant "2014-Mar" offset under the axis
    fig = charts.roles_timeline(_role_counts(), W, focal_label="@l")
    charts.figure_png_svg(fig)
    ax = fig.axes[0]
    assert ax.xaxis.get_offset_text().get_text() == ""
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "Feb 2014" in labels and "Mar 2014" in labels and "2014-Mar" not in labels


# ---- the example's charts: nothing drawn outside the canvas (review t5 #17) --------------------


def _outside(fig) -> list[str]:
    """Texts of ``fig`` (laid out and drawn) whose extent crosses the canvas' edge, by more
    than one pixel: what a reader of the PNG sees cut."""
    from matplotlib.text import Text

    renderer = fig.canvas.get_renderer()
    hidden = set()  # the labels of ticks outside the view: not drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks()):
                inside = lo - 1e-9 * abs(hi - lo) <= tick.get_loc() <= hi + 1e-9 * abs(hi - lo)
                if not (inside and ax.axison):
                    hidden |= {id(tick.label1), id(tick.label2)}
    box, out = fig.bbox, []
    for t in fig.findobj(Text):
        if id(t) in hidden or not t.get_visible() or not t.get_text().strip():
            continue
        e = t.get_window_extent(renderer)
        if e.x0 < box.x0 - 1 or e.x1 > box.x1 + 1 or e.y0 < box.y0 - 1 or e.y1 > box.y1 + 1:
            out.append(f"{t.get_text()[:60]!r} {tuple(round(v) for v in e.extents)}")
    return out


@pytest.fixture(scope="module")
def example_charts(tmp_path_factory):
    """The figures of the example report, as rendered (laid out) by the report step."""
    import shutil
    from pathlib import Path

    from netsupport import report_charts
    from netsupport.study import run_study

    example = Path(__file__).parent.parent / "data" / "example"
    if not (example / "study.toml").is_file():
        pytest.skip("data/example is not there")
    dest = tmp_path_factory.mktemp("ex") / "ex"
    shutil.copytree(example, dest)
    toml = dest / "study.toml"
    toml.write_text(
        toml.read_text(encoding="utf-8").replace('dir = "../../reports/example"', 'dir = "out"'),
        "utf-8",
    )
    seen = {}
    render = charts.figure_png_svg

    def keep(fig, title=None):
        png, svg = render(fig, title)
        engine, dpi = fig.get_layout_engine(), fig.dpi
        with charts._style():  # drawn again as the PNG was: its dpi, its positions
            fig.set_layout_engine(None)
            fig.dpi = matplotlib.rcParams["savefig.dpi"]
            fig.canvas.draw()
            seen[title] = _outside(fig)
            fig.dpi = dpi
            fig.set_layout_engine(engine)
        return png, svg

    mp = pytest.MonkeyPatch()
    mp.setattr(charts, "figure_png_svg", keep)
    try:
        run_study(toml, jobs=1, clock=lambda: "2026-01-01T00:00:00Z")
    finally:
        mp.undo()
    assert len(seen) >= len(report_charts.CHART_KEYS)
    return seen


def test_no_text_of_the_example_charts_is_cut_at_the_canvas_edge(example_charts):
    # the coverage chart's subtitle ran off the right edge ("hatched: (" ... cut)
    assert {title: cut for title, cut in example_charts.items() if cut} == {}

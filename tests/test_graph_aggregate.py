"""One edge aggregation: netsupport.graph.aggregate_edges (now a wrapper that encodes the frame
and calls aggregate_coded), the communities step's codes (graph_measures) and the report's
(gexfout.CodedInteractions) give, to the bit, the frame the frame-only implementation gave
before they were merged. Its code is kept below as the oracle. Guards against a caller's edges
(rows, order, dtypes, float bits) changing with the merge."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from netsupport import graph
from netsupport.graph import (
    CodedRows,
    _kind_weight_map,
    aggregate_coded,
    aggregate_edges,
    parse_kinds,
)
from netsupport.graph_measures import InteractionCodes, _aggregate
from netsupport.schema import IKind, InteractionCol

SOURCE, TARGET, WEIGHT = "source", "target", "weight"


def old_aggregate_edges(
    interactions: pd.DataFrame,
    kinds: Iterable[IKind | str] | None = None,
    kind_weights: Mapping[str, float] | None = None,
    *,
    self_loops: bool = False,
) -> pd.DataFrame:
    """netsupport.graph.aggregate_edges as it was (f06ec9b), on the frame alone."""
    wanted = parse_kinds(kinds) or tuple(IKind)
    weights = _kind_weight_map(kind_weights)
    src = interactions[SOURCE]
    dst = interactions[TARGET]
    kind = interactions[InteractionCol.KIND]
    keep = src.notna() & dst.notna() & kind.isin([k.value for k in wanted])
    if not self_loops:
        keep &= src != dst
    keep = keep.to_numpy(dtype=bool)
    if not keep.any():
        return pd.DataFrame(
            {
                SOURCE: pd.Series([], dtype=object),
                TARGET: pd.Series([], dtype=object),
                WEIGHT: pd.Series([], dtype="float64"),
            }
        )
    if WEIGHT in interactions.columns:
        row_w = pd.to_numeric(interactions[WEIGHT], errors="coerce").fillna(1.0).to_numpy(float)
    else:
        row_w = np.ones(len(interactions))
    kinds_all = [k.value for k in IKind]
    k_codes, k_uniq = pd.factorize(kind[keep])
    k_code = np.asarray([kinds_all.index(str(k)) for k in k_uniq], dtype=np.int64)[k_codes]
    w = row_w[keep] * np.asarray([weights.get(k, 0.0) for k in kinds_all], dtype=float)[k_code]
    s_keep, t_keep = src[keep], dst[keep]
    codes, uniq = pd.factorize(pd.concat([s_keep, t_keep], ignore_index=True), sort=True)
    m, n = len(s_keep), len(uniq)
    key = codes[:m].astype(np.int64) * n + codes[m:]
    pairs, edge = np.unique(key, return_inverse=True)
    n_k = len(kinds_all)
    table = np.bincount(edge * n_k + k_code, minlength=len(pairs) * n_k).reshape(-1, n_k)
    handles = np.asarray(uniq, dtype=object)
    out = pd.DataFrame(
        {
            SOURCE: pd.Series(handles[pairs // n], dtype=object),
            TARGET: pd.Series(handles[pairs % n], dtype=object),
        }
    )
    for j, k in enumerate(kinds_all):
        if table[:, j].any():
            out[graph.count_column(k)] = table[:, j].astype("int64")
    out[WEIGHT] = pd.Series(w).groupby(edge, sort=True).sum().to_numpy(dtype=np.float64)
    return out


def assert_same_bits(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    """The same rows in the same order, the same columns and dtypes, the same float bits."""
    assert got.columns.tolist() == ref.columns.tolist()
    assert got.dtypes.tolist() == ref.dtypes.tolist()
    pd.testing.assert_frame_equal(got, ref, check_exact=True)
    for col in got.columns:
        a, b = got[col].to_numpy(), ref[col].to_numpy()
        if a.dtype.kind == "f":  # (-0.0 and 0.0, NaN payloads: bits, not values)
            assert a.view(np.int64).tolist() == b.view(np.int64).tolist()
        else:
            assert a.tolist() == b.tolist() and [type(x) for x in a] == [type(x) for x in b]


# handles: duplicates likely (a few fixed ones), and any text (non-ASCII, spaces, empty)
HANDLES = st.one_of(
    st.sampled_from(["a", "b", "A", "ä", "é", "ß", "Zed", "a b", "lane", "日本", "😀", ""]),
    st.text(max_size=3),
    st.none(),
)
KINDS = st.sampled_from([*(k.value for k in IKind), None, "other", "Reply", "likes"])
ROW_WEIGHTS = st.sampled_from([None, 1.0, 2.5, 0.5, -1.5, 0.0, 1e-300, 1e300, float("nan")])
KIND_WEIGHT_VALUES = st.sampled_from([0.0, 0.1, 0.5, 1.0, 2.0, 3.7, 1e-300])
KIND_SETS = st.one_of(
    st.none(),
    st.sampled_from(["reply", "repost,quote,mention", "FOLLOW, reply"]),
    st.lists(st.sampled_from(list(IKind)), min_size=1, max_size=4),
)
KIND_WEIGHTS = st.one_of(
    st.none(),
    st.dictionaries(
        st.sampled_from([*(k.value for k in IKind), "REPOST", IKind.QUOTE]),
        KIND_WEIGHT_VALUES,
        max_size=4,
    ),
)


@st.composite
def interaction_frames(draw) -> pd.DataFrame:
    rows = draw(st.lists(st.tuples(HANDLES, HANDLES, KINDS, ROW_WEIGHTS), max_size=30))
    if rows and draw(st.booleans()):  # duplicate edges: repeat some rows
        rows = rows + draw(st.lists(st.sampled_from(rows), max_size=10))
    df = pd.DataFrame(rows, columns=[SOURCE, TARGET, "kind", WEIGHT])
    strings = draw(st.sampled_from(["object", "str"]))  # (pandas' str: Arrow-backed strings)
    for col in (SOURCE, TARGET, "kind"):
        df[col] = df[col].astype(object if strings == "object" else "str")
    weight = draw(st.sampled_from(["float", "none", "text"]))
    if weight == "none":
        df = df.drop(columns=WEIGHT)
    elif weight == "text":  # (not a number: 1, as pd.to_numeric(errors="coerce") reads it)
        df[WEIGHT] = [draw(st.sampled_from(["2", "x", None, 3.0])) for _ in range(len(df))]
    if len(df) and draw(st.booleans()):  # an index that is not 0..n-1
        df.index = pd.Index(np.arange(len(df))[::-1] * 3 + 7)
    return df


def _one_row(kind: str) -> pd.DataFrame:
    return pd.DataFrame({SOURCE: ["ä"], TARGET: ["日本"], "kind": [kind], WEIGHT: [2.5]})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(interaction_frames(), KIND_SETS, KIND_WEIGHTS, st.booleans())
@example(pd.DataFrame({SOURCE: [], TARGET: [], "kind": []}, dtype=object), None, None, False)
@example(_one_row("reply"), None, {"reply": 2.0}, False)
@example(_one_row("like"), ["reply"], None, True)
@example(
    pd.DataFrame({SOURCE: ["a", "a", "b"], TARGET: ["a", "a", "a"], "kind": ["reply"] * 3}),
    None,
    None,
    True,
)
def test_aggregate_edges_gives_the_old_frame_bit_for_bit(df, kinds, kind_weights, self_loops):
    ref = old_aggregate_edges(df, kinds, kind_weights, self_loops=self_loops)
    got = aggregate_edges(df, kinds, kind_weights, self_loops=self_loops)
    assert_same_bits(got, ref)
    # the codes path of a subset of rows (a mask, as the windows are) is the frame path of them
    keep = np.arange(len(df)) % 3 != 1
    coded = aggregate_coded(
        CodedRows.from_frame(df), keep, kinds, kind_weights, self_loops=self_loops
    )
    assert_same_bits(
        coded.frame(), old_aggregate_edges(df[keep], kinds, kind_weights, self_loops=self_loops)
    )


@settings(max_examples=200, deadline=None)
@given(interaction_frames(), KIND_SETS)
def test_the_communities_steps_codes_give_the_old_frame_and_its_arrays(df, kinds):
    """graph_measures' aggregation (default weights, no self-loops) and its directed arrays."""
    got, arrays = _aggregate(InteractionCodes.from_frame(df), None, kinds)
    ref = old_aggregate_edges(df, kinds)
    assert_same_bits(got, ref)
    if ref.empty:
        assert arrays is None
    else:
        want = graph.GraphArrays.from_edges(ref)
        assert arrays.nodes.tolist() == want.nodes.tolist()
        for a, b in ((arrays.src, want.src), (arrays.dst, want.dst), (arrays.weight, want.weight)):
            assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_errors_are_the_old_ones():
    df = _one_row("reply")
    for kwargs in ({"kinds": "likes"}, {"kind_weights": {"likes": 1.0}}):
        with pytest.raises(Exception) as old:
            old_aggregate_edges(df, **kwargs)
        with pytest.raises(type(old.value), match=str(old.value)[:30]):
            aggregate_edges(df, **kwargs)

"""Benchmark: community detection on a generated planted graph of 1,000,000 edges (~100k nodes).

Times python-louvain (netsupport's default engine), the fast engines (igraph multilevel,
igraph's built-in leiden) and networkx's own ``louvain_communities`` on the same edges, each in
its own child process (wall time, peak RSS), with NMI against the planted communities and
modularity; checks that shuffled input rows give the identical partition (and that raw
python-louvain does not); then runs ``netsupport communities`` end to end on a store holding
the same 1M interactions. Writes the "Communities" section of bench/RESULTS.md.

Usage::

    python bench/communities.py            # full size (about 3-4 minutes on 2 cores)
    python bench/communities.py --edges 100000   # quick check while developing
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, machine, run_measured, update_section

SEED = 42
MIXING = 0.4  # share of each node's edges drawn to a random node outside the planted structure


def generate(n_edges: int, n_nodes: int, n_communities: int, seed: int = 7):
    """Return (edges DataFrame source/target/weight, truth Series handle -> community).

    Each edge starts at a uniformly random node; with probability 1 - MIXING it ends at a random
    member of the same planted community, otherwise at a uniformly random node. Self-loops and
    repeated pairs are dropped until exactly ``n_edges`` distinct undirected pairs remain; the
    direction of each pair is random.
    """
    rng = np.random.default_rng(seed)
    community = rng.permutation(n_nodes) % n_communities
    order = np.argsort(community, kind="stable")
    sizes = np.bincount(community, minlength=n_communities)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    keys = np.array([], dtype=np.int64)
    while len(keys) < n_edges:
        batch = int((n_edges - len(keys)) * 1.3) + 1000
        u = rng.integers(0, n_nodes, batch)
        internal = rng.random(batch) >= MIXING
        c = community[u]
        v_in = order[starts[c] + (rng.random(batch) * sizes[c]).astype(np.int64)]
        v = np.where(internal, v_in, rng.integers(0, n_nodes, batch))
        keep = u != v
        a, b = np.minimum(u[keep], v[keep]), np.maximum(u[keep], v[keep])
        keys = pd.unique(np.concatenate([keys, a * n_nodes + b]))
    keys = keys[:n_edges]
    a, b = keys // n_nodes, keys % n_nodes
    flip = rng.random(n_edges) < 0.5
    src, dst = np.where(flip, b, a), np.where(flip, a, b)
    names = np.asarray([f"u{i:06d}" for i in range(n_nodes)], dtype=object)
    edges = pd.DataFrame({"source": names[src], "target": names[dst], "weight": 1.0})
    truth = pd.Series(community, index=names, name="community")
    return edges, truth


# ---- child: one engine, timed in its own process ------------------------------------------------


def _nmi(truth: pd.Series, membership: pd.Series) -> float:
    from sklearn.metrics import normalized_mutual_info_score

    labels = membership.reindex(truth.index)
    return float(normalized_mutual_info_score(truth.to_numpy(), labels.to_numpy()))


def _matched(ref: np.ndarray, other: np.ndarray) -> np.ndarray:
    from netsupport.communities import _matched_same

    return _matched_same(ref, other)


def child(engine: str, data: Path) -> dict:
    """Run one engine on the generated edges; return figures as a dict (printed as JSON)."""
    import networkx as nx

    from netsupport.communities import detect, modularity

    edges = pd.read_parquet(data / "edges.parquet")
    truth = pd.read_parquet(data / "truth.parquet")["community"]
    out: dict = {"engine": engine}
    if engine in ("louvain", "multilevel", "leiden"):
        start, cpu = time.perf_counter(), time.process_time()
        part = detect(edges, engine, seed=SEED)
        out["seconds"], out["cpu"] = time.perf_counter() - start, time.process_time() - cpu
        membership = part.membership
        out["library"] = part.parameters.get("library")
        part.membership.to_frame().to_parquet(data / f"membership-{engine}.parquet")
    elif engine in ("louvain-shuffled", "multilevel-shuffled"):
        base = engine.split("-")[0]
        shuffled = edges.sample(frac=1.0, random_state=1).reset_index(drop=True)
        start, cpu = time.perf_counter(), time.process_time()
        membership = detect(shuffled, base, seed=SEED).membership
        out["seconds"], out["cpu"] = time.perf_counter() - start, time.process_time() - cpu
        ref = pd.read_parquet(data / f"membership-{base}.parquet")["community"]
        out["identical"] = bool(membership.equals(ref))
    elif engine == "python-louvain-raw-shuffled":
        import community as community_louvain

        shuffled = edges.sample(frac=1.0, random_state=1)
        G = nx.Graph()
        G.add_weighted_edges_from(shuffled.itertuples(index=False, name=None))
        start, cpu = time.perf_counter(), time.process_time()
        found = community_louvain.best_partition(G, random_state=SEED)
        out["seconds"], out["cpu"] = time.perf_counter() - start, time.process_time() - cpu
        membership = pd.Series(found)
        ref = pd.read_parquet(data / "membership-louvain.parquet")["community"]
        out["nmi_vs_sorted"] = _nmi(ref, membership)
        out["identical"] = bool(membership.reindex(ref.index).equals(ref))
        out["moved"] = int(
            (~_matched(ref.to_numpy(), membership.reindex(ref.index).to_numpy())).sum()
        )
    elif engine == "networkx-louvain":
        nodes = sorted(set(edges["source"]).union(edges["target"]))
        G = nx.Graph()
        G.add_nodes_from(nodes)
        G.add_weighted_edges_from(
            sorted(
                (min(s, t), max(s, t), w) for s, t, w in edges.itertuples(index=False, name=None)
            )
        )
        start, cpu = time.perf_counter(), time.process_time()
        found = nx.community.louvain_communities(G, weight="weight", seed=SEED)
        out["seconds"], out["cpu"] = time.perf_counter() - start, time.process_time() - cpu
        membership = pd.Series(
            {n: c for c, members in enumerate(found) for n in members}, name="community"
        )
    else:
        raise SystemExit(f"unknown engine {engine}")
    out["nmi"] = _nmi(truth, membership)
    out["modularity"] = modularity(edges, membership)
    out["communities"] = int(membership.nunique())
    return out


# ---- parent -------------------------------------------------------------------------------------


def build_store(edges: pd.DataFrame, store_dir: Path) -> None:
    """Write the edges as 1M interactions (kinds mixed, all in one crisis window) into a store."""
    import pyarrow as pa

    from netsupport.schema import Table
    from netsupport.store import Store, conform_arrow

    rng = np.random.default_rng(3)
    n = len(edges)
    kinds = np.array(["reply", "mention", "repost", "quote"], dtype=object)[rng.integers(0, 4, n)]
    start = pd.Timestamp("2014-02-14T09:00:00Z").value // 1000
    created = pd.to_datetime(start + rng.integers(0, 5 * 86400 * 10**6, n), unit="us", utc=True)
    rows = pd.DataFrame(
        {
            "source": edges["source"].to_numpy(),
            "target": edges["target"].to_numpy(),
            "kind": kinds,
            "post_id": np.arange(n).astype(str),
            "created_at": created,
            "weight": 1.0,
        }
    )
    with Store(store_dir).transaction() as tx:
        tx.append(
            Table.INTERACTIONS,
            conform_arrow(pa.Table.from_pandas(rows, preserve_index=False), Table.INTERACTIONS),
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.data)))
        return 0

    n_edges = args.edges
    n_nodes = max(1000, n_edges // 10)
    n_communities = max(4, n_nodes // 500)
    data = OUT / f"communities-{n_edges}-mixing{MIXING}"
    data.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    edges, truth = generate(n_edges, n_nodes, n_communities)
    edges.to_parquet(data / "edges.parquet")
    truth.to_frame().to_parquet(data / "truth.parquet")
    print(
        f"generated {len(edges):,} edges, {n_nodes:,} nodes, {n_communities} planted "
        f"communities (mixing {MIXING}) in {time.perf_counter() - t0:.1f} s",
        flush=True,
    )

    load_start = os.getloadavg()[0]
    rows = []
    engines = [
        "louvain",
        "multilevel",
        "leiden",
        "networkx-louvain",
        "louvain-shuffled",
        "multilevel-shuffled",
        "python-louvain-raw-shuffled",
    ]
    for engine in engines:
        cmd = [sys.executable, __file__, "--child", engine, "--data", str(data)]
        wall, rss, result = run_measured(cmd)
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        figures.update(wall=wall, rss=rss)
        rows.append(figures)
        print(
            f"{engine:28s} {figures['seconds']:7.2f} s, cpu {figures['cpu']:7.2f} s (child wall "
            f"{wall:6.1f} s, peak "
            f"{rss:6.0f} MB)  NMI {figures['nmi']:.4f}  Q {figures['modularity']:.4f}  "
            f"k={figures['communities']}"
            + (f"  identical={figures['identical']}" if "identical" in figures else ""),
            flush=True,
        )

    store_dir = data / "store"
    if not (store_dir / "manifest.json").exists():
        build_store(edges, store_dir)
    cli = []
    for algorithm in ("auto", "louvain"):
        out_dir = data / f"cli-{algorithm}"
        cmd = [
            sys.executable, "-m", "netsupport", "communities", "--store", str(store_dir),
            "--algorithm", algorithm, "--out", str(out_dir),
        ]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, rss, result = run_measured(cmd)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        summary = json.loads((out_dir / "communities.json").read_text())
        nodes = pd.read_csv(out_dir / "nodes.csv", usecols=["handle", "community"])
        nmi = _nmi(truth, nodes.set_index("handle")["community"])
        cli.append((algorithm, wall, cpu, rss, summary, nmi))
        print(
            f"netsupport communities --algorithm {algorithm}: {wall:.1f} s (cpu {cpu:.1f} s), "
            f"peak {rss:.0f} MB, "
            f"engine {summary['partition']['algorithm']}, NMI {nmi:.4f}",
            flush=True,
        )

    load_end = os.getloadavg()[0]
    by = {r["engine"]: r for r in rows}
    speed = by["louvain"]["seconds"] / by["multilevel"]["seconds"]
    speed_cpu = by["louvain"]["cpu"] / by["multilevel"]["cpu"]
    lines = [
        f"Machine: {machine()}. Command: `python bench/communities.py` "
        f"(`make bench`). Graph: {len(edges):,} edges, {n_nodes:,} nodes, {n_communities} "
        f"planted communities of {n_nodes // n_communities} nodes, mixing {MIXING} (generated, "
        f"seed 7); every engine with seed {SEED}. Time = the engine call including building "
        "its graph from the edge table (wall, and CPU time of the process: the machine was "
        f"shared, 1-min load average {load_start:.1f} at the start and {load_end:.1f} at the "
        "end, so wall times are inflated; CPU times are the fairer comparison); peak RSS = the "
        "whole child process.",
        "",
        "| engine | library | wall (s) | CPU (s) | peak RSS (MB) | NMI vs planted | modularity "
        "| communities |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "louvain": ("louvain (default)", "python-louvain"),
        "multilevel": ("multilevel (fast engine)", "igraph"),
        "leiden": ("leiden", "igraph"),
        "networkx-louvain": ("networkx louvain_communities", "networkx"),
    }
    for key, (name, lib) in labels.items():
        r = by[key]
        lines.append(
            f"| {name} | {r.get('library') or lib} | {r['seconds']:.2f} | {r['cpu']:.2f} | "
            f"{r['rss']:.0f} | "
            f"{r['nmi']:.4f} | {r['modularity']:.4f} | {r['communities']} |"
        )
    lines += [
        "",
        f"Fast engine speed-up over python-louvain: {speed:.1f}x wall, {speed_cpu:.1f}x CPU "
        f"(NMI {by['multilevel']['nmi']:.4f} vs {by['louvain']['nmi']:.4f}).",
        "",
        "Same edges, rows shuffled, same seed:",
        "",
        "| run | identical partition | NMI vs sorted run | accounts in another community |",
        "|---|---|---:|---:|",
        f"| netsupport louvain (sorted insertion) | "
        f"{'yes' if by['louvain-shuffled']['identical'] else 'NO'} | "
        f"{'1.000000' if by['louvain-shuffled']['identical'] else '-'} | 0 |",
        f"| netsupport multilevel | "
        f"{'yes' if by['multilevel-shuffled']['identical'] else 'NO'} | "
        f"{'1.000000' if by['multilevel-shuffled']['identical'] else '-'} | 0 |",
        f"| raw python-louvain on the shuffled graph | "
        f"{'yes' if by['python-louvain-raw-shuffled']['identical'] else 'no'} | "
        f"{by['python-louvain-raw-shuffled']['nmi_vs_sorted']:.6f} | "
        f"{by['python-louvain-raw-shuffled']['moved']:,} |",
        "",
        f"`netsupport communities` end to end (store of {len(edges):,} interactions -> read, "
        "aggregate, detect, PageRank, tables, nodes.csv/communities.csv/json):",
        "",
        "| command | engine used | wall (s) | CPU (s) | peak RSS (MB) | NMI vs planted | "
        "modularity |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for algorithm, wall, cpu, rss, summary, nmi in cli:
        lines.append(
            f"| `netsupport communities --algorithm {algorithm}` | "
            f"{summary['partition']['algorithm']} | {wall:.1f} | {cpu:.1f} | {rss:.0f} | "
            f"{nmi:.4f} | "
            f"{summary['partition']['modularity']:.4f} |"
        )
    body = "\n".join(lines)
    print(body)
    if n_edges == 1_000_000:
        update_section("Communities", body)
    else:
        print("(not written to RESULTS.md: only the 1,000,000-edge run is)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

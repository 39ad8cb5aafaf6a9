"""Read and validate a study file (study.toml) into a :class:`Study`.

Unknown keys and wrong types are errors that name the key and its line. Paths are resolved
relative to the study file. (DESIGN.md puts this in study.py; it lives in its own module so that
stance/support/report can take a ``Study`` without importing the pipeline that runs them.)

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "t.jsonl").write_text("")
>>> _ = (d / "study.toml").write_text('''
... [study]
... name = "demo"
... focal = ["@Inspector_Lane"]
... [windows]
... crisis_start = "2014-02-14T09:00:00Z"
... crisis_end = "2014-02-19T18:00:00Z"
... [[inputs]]
... path = "t.jsonl"
... ''')
>>> s = load_study(d / "study.toml")
>>> s.focal, s.institution, s.windows.days(Window.CRISIS)
(('inspector_lane',), (), 5.375)
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import StudyError, StudyKeyError
from .gexfout import DEFAULT_GEXF_MAX_EDGES
from .outdir import default_store, layout_problem
from .schema import Window, normalise_handle
from .windows import Windows, parse_instant

__all__ = [
    "CommunityParams",
    "InputSpec",
    "Provenance",
    "SensitivityParams",
    "StanceParams",
    "Study",
    "SupportParams",
    "load_study",
]

INPUT_FORMATS = (
    "auto",
    "twitter-v2",
    "twitter-archive",
    "csv",
    "nodexl",
    "followers",
    "accounts",
    "mastodon",
    "telegram",
)
INPUT_FORMATS += ("bluesky", "reddit")  # (issue #16: netsupport.io.bluesky, .reddit)


@dataclass(frozen=True)
class InputSpec:
    """One input file of a study."""

    path: Path
    format: str = "auto"
    mapping: tuple[tuple[str, str], ...] = ()  # CSV column -> canonical field
    account: str | None = None  # for follower/following lists: whose list it is
    direction: str = "followers"  # followers (people who follow account) | following
    header: bool = True  # CSV: False when the first row is data (columns by position)
    columns: tuple[str, ...] = ()  # CSV without a header: the names of its columns
    instance: str | None = None  # Mastodon API statuses: host of local accounts


@dataclass(frozen=True)
class CommunityParams:
    # auto: python-louvain up to 200k edges / 100k nodes, igraph multilevel above (and says so)
    algorithm: str = "auto"  # auto | louvain | leiden | multilevel
    resolution: float = 1.0
    seed: int = 42
    runs: int = 1


@dataclass(frozen=True)
class StanceParams:
    lexicon: Path | None = None
    labels: Path | None = None
    positive_threshold: float = 0.05  # VADER compound >= this -> supportive
    negative_threshold: float = -0.05  # VADER compound <= this -> critical
    likes_count: bool = True  # a like of the target's post counts as endorsement, as a repost


@dataclass(frozen=True)
class SupportParams:
    bootstrap: int = 1000
    seed: int = 42
    breadth_min_supporters: int = 3
    top_n: int = 10
    confidence: float = 0.95


@dataclass(frozen=True)
class Provenance:
    """How the data were collected and under what approval (``[provenance]``), for the report."""

    method: str | None = None  # how the data were collected (API, export, scraping, ...)
    query: str | None = None  # the search query or account list
    collected_from: str | None = None  # collection period (dates as written)
    collected_to: str | None = None
    coders: tuple[str, ...] = ()  # who hand-coded stance
    ethics: str | None = None  # ethics approval (body and reference) or why none was needed
    preregistration: str | None = None  # where and when the analysis plan was registered
    #: when the follower lists were collected (ISO date, or date-time in UTC): their follows
    #: carry no time, and a list taken after the crisis may hold ties the crisis made
    follows_collected: str | None = None
    synthetic: bool = False  # the data are generated, not collected
    notes: str | None = None

    def fields(self) -> list[tuple[str, str]]:
        """Return the declared fields as (label, text) rows, in a fixed order."""
        rows = [
            ("Collection method", self.method),
            ("Query", self.query),
            ("Collected from", self.collected_from),
            ("Collected to", self.collected_to),
            ("Follower lists collected", self.follows_collected),
            ("Stance coders", ", ".join(self.coders) if self.coders else None),
            ("Ethics approval", self.ethics),
            ("Preregistration", self.preregistration),
            ("Notes", self.notes),
        ]
        return [(k, v) for k, v in rows if v]


@dataclass(frozen=True)
class SensitivityParams:
    """The grid the headline measures are re-run over (METHODS.md, "Sensitivity").

    ``window_shift_days`` moves the crisis start and the crisis end (each independently);
    ``baseline_days`` is the baseline length; ``thresholds`` are symmetric VADER cut-offs
    ``t`` (supportive at >= t, critical at <= -t); ``algorithms`` x ``resolutions`` are the
    community settings, each run with ``seeds`` seeds (the study's seed and the next ones).
    Above ``community_max_edges`` baseline edges (0: no limit) the community grid is reduced to
    the study's own algorithm and resolution over three seeds (METHODS.md, "Sensitivity").
    """

    window_shift_days: tuple[float, ...] = (-1.0, 0.0, 1.0)
    baseline_days: tuple[float, ...] = (7.0, 14.0, 28.0)
    thresholds: tuple[float, ...] = (0.05, 0.1, 0.25)
    algorithms: tuple[str, ...] = ("louvain", "leiden")
    resolutions: tuple[float, ...] = (0.5, 1.0, 2.0)
    seeds: int = 5
    consensus_threshold: float = 0.5
    community_max_edges: int = 200_000

    def as_dict(self) -> dict[str, Any]:
        return {
            "window_shift_days": list(self.window_shift_days),
            "baseline_days": list(self.baseline_days),
            "thresholds": list(self.thresholds),
            "algorithms": list(self.algorithms),
            "resolutions": list(self.resolutions),
            "seeds": self.seeds,
            "consensus_threshold": self.consensus_threshold,
            "community_max_edges": self.community_max_edges,
        }


@dataclass(frozen=True)
class Study:
    """A validated study: who, when, which inputs, and every parameter of the analysis."""

    name: str
    focal: tuple[str, ...]
    institution: tuple[str, ...]
    windows: Windows
    inputs: tuple[InputSpec, ...]
    proxies: tuple[str, ...] = ()
    markers: tuple[str, ...] = ()
    communities: CommunityParams = field(default_factory=CommunityParams)
    stance: StanceParams = field(default_factory=StanceParams)
    support: SupportParams = field(default_factory=SupportParams)
    sensitivity: SensitivityParams = field(default_factory=SensitivityParams)
    output_dir: Path = Path("reports/study")
    store_dir: Path = Path("reports/study.netsupport/store")
    accounts: Path | None = None  # optional accounts CSV with roles
    path: Path | None = None  # the study file itself
    account_map: Path | None = None  # optional CSV platform,handle,person (netsupport.accountmap)
    gexf_max_edges: int = DEFAULT_GEXF_MAX_EDGES  # [output]: above it graph.gexf is crisis-only
    uncovered: str = "cut"  # a window the data do not span: cut to the data | refuse
    primary: tuple[str, ...] = ()  # declared primary measures (netsupport.measures)
    provenance: Provenance = field(default_factory=Provenance)
    pseudonymise: bool = False  # stable salted pseudonyms in every output
    salt_file: Path | None = None  # a study-local secret file holding the salt (never written)

    def parameters(self) -> dict[str, Any]:
        """Return every analysis parameter as plain JSON-able values (for manifests and reports)."""
        params = self._parameters()
        if self.account_map is not None:  # (only when given: other studies' bytes unchanged)
            params["account_map"] = self.account_map.name
        if self.gexf_max_edges != DEFAULT_GEXF_MAX_EDGES:  # (likewise)
            params["output"] = {"gexf_max_edges": self.gexf_max_edges}
        return params

    def _parameters(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "focal": list(self.focal),
            "institution": list(self.institution),
            "proxies": list(self.proxies),
            "markers": list(self.markers),
            "windows": self.windows.as_dict(),
            "communities": {
                "algorithm": self.communities.algorithm,
                "resolution": self.communities.resolution,
                "seed": self.communities.seed,
                "runs": self.communities.runs,
            },
            "stance": {
                "positive_threshold": self.stance.positive_threshold,
                "negative_threshold": self.stance.negative_threshold,
                "likes_count": self.stance.likes_count,
                "lexicon": self.stance.lexicon.name if self.stance.lexicon else None,
                "labels": self.stance.labels.name if self.stance.labels else None,
            },
            "support": {
                "bootstrap": self.support.bootstrap,
                "seed": self.support.seed,
                "breadth_min_supporters": self.support.breadth_min_supporters,
                "top_n": self.support.top_n,
                "confidence": self.support.confidence,
            },
            "evidence": {
                "uncovered": self.uncovered,
                "primary": list(self.primary),
                "pseudonymise": self.pseudonymise,
            },
            "provenance": dict(self.provenance.fields()) | {"synthetic": self.provenance.synthetic},
            "sensitivity": self.sensitivity.as_dict(),
        }


# key -> expected python type(s); nested tables are described by their own dicts
_SPEC: dict[str, Any] = {
    "study": {
        "name": str,
        "focal": list,
        "institution": list,
        "proxies": list,
        "markers": list,
        "accounts": str,
        "account_map": str,
        "primary": list,
    },
    "windows": {
        "crisis_start": (str, object),
        "crisis_end": (str, object),
        "baseline_days": (int, float),
        "after_days": (int, float),
        "baseline_start": (str, object),
        "after_end": (str, object),
        "uncovered": str,
    },
    "inputs": [
        {
            "path": str,
            "format": str,
            "map": dict,
            "account": str,
            "direction": str,
            "header": bool,
            "columns": list,
            "instance": str,
        },
    ],
    "communities": {"algorithm": str, "resolution": (int, float), "seed": int, "runs": int},
    "stance": {
        "lexicon": str,
        "labels": str,
        "positive_threshold": (int, float),
        "negative_threshold": (int, float),
        "likes_count": bool,
    },
    "support": {
        "bootstrap": int,
        "seed": int,
        "breadth_min_supporters": int,
        "top_n": int,
        "confidence": float,
    },
    "output": {
        "dir": str,
        "store": str,
        "gexf_max_edges": int,
        "pseudonymise": bool,
        "salt_file": str,
    },
    "provenance": {
        "method": str,
        "query": str,
        "collected_from": (str, object),
        "collected_to": (str, object),
        "follows_collected": (str, object),
        "coders": list,
        "ethics": str,
        "preregistration": str,
        "synthetic": bool,
        "notes": str,
    },
    "sensitivity": {
        "window_shift_days": list,
        "baseline_days": list,
        "thresholds": list,
        "algorithms": list,
        "resolutions": list,
        "seeds": int,
        "consensus_threshold": (int, float),
        "community_max_edges": int,
    },
}


def _line_of(text: str, key: str, start: int = 0) -> int | None:
    pat = re.compile(rf"^\s*(\[+\s*)?{re.escape(key)}\b", re.M)
    m = pat.search(text, start)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _where(path: Path, text: str, key: str) -> str:
    section, _, name = key.rpartition(".")
    header = re.search(rf"^\s*\[\s*{re.escape(section)}\s*\]", text, re.M) if section else None
    item = re.fullmatch(r"(\w+)\[(\d+)\]", section)
    if item is not None:  # the N-th [[inputs]] table: its key, not the first table's
        tables = list(re.finditer(rf"^\s*\[\[\s*{item[1]}\s*\]\]", text, re.M))
        header = tables[int(item[2])] if int(item[2]) < len(tables) else None
    line = _line_of(text, name.split("[")[0], header.end() if header else 0)
    return f"{path}:{line}" if line else str(path)


def _check(data: dict, spec: dict, prefix: str, path: Path, text: str) -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in spec:
            allowed = ", ".join(sorted(spec))
            raise StudyKeyError(
                f"{_where(path, text, key)}: unknown key '{dotted}' (expected one of: {allowed})"
            )
        expected = spec[key]
        if isinstance(expected, dict):
            if not isinstance(value, dict):
                raise StudyKeyError(f"{_where(path, text, key)}: '{dotted}' must be a table")
            _check(value, expected, f"{dotted}.", path, text)
        elif isinstance(expected, list):
            if not isinstance(value, list):
                raise StudyKeyError(
                    f"{_where(path, text, key)}: '{dotted}' must be an array of tables "
                    f"([[{dotted}]])"
                )
            for i, item in enumerate(value):
                if not isinstance(item, dict):
                    raise StudyKeyError(
                        f"{_where(path, text, key)}: '{dotted}[{i}]' must be a table"
                    )
                _check(item, expected[0], f"{dotted}[{i}].", path, text)
        else:
            types = expected if isinstance(expected, tuple) else (expected,)
            if (object not in types and not isinstance(value, types)) or (
                isinstance(value, bool) and bool not in types
            ):
                names = " or ".join(t.__name__ for t in types if t is not object)
                raise StudyKeyError(
                    f"{_where(path, text, key)}: '{dotted}' must be {names}, "
                    f"got {type(value).__name__}"
                )


def _require(data: dict, dotted: str, path: Path, text: str) -> Any:
    cur: Any = data
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise StudyKeyError(f"{path}: missing required key '{dotted}'")
        cur = cur[part]
    return cur


def _handles(values: list, dotted: str, path: Path, text: str) -> tuple[str, ...]:
    out = []
    for v in values:
        h = normalise_handle(v) if isinstance(v, str) else None
        if not h:
            raise StudyKeyError(f"{_where(path, text, dotted)}: '{dotted}' must list handles")
        out.append(h)
    return tuple(dict.fromkeys(out))


def both_sides(focal: tuple[str, ...], institution: tuple[str, ...]) -> str | None:
    """Say which handle is named both focal and institution (a study needs two sides), or None.

    >>> both_sides(("lane",), ("force", "lane"))
    '@lane is named both focal and institution: name each account on one side only'
    """
    common = [h for h in institution if h in focal]
    if not common:
        return None
    return f"@{common[0]} is named both focal and institution: name each account on one side only"


def _resolve(
    base: Path,
    value: str,
    dotted: str,
    must_exist: bool = True,
    where: tuple[Path, str] | None = None,
) -> Path:
    if "\0" in value:  # (a TOML string may hold one; no operating system takes it in a path)
        at = _where(*where, dotted) if where else dotted
        raise StudyKeyError(f"{at}: '{dotted}' holds a NUL character (\\u0000); not a path")
    p = (base / value).resolve() if not Path(value).is_absolute() else Path(value)
    if must_exist and not p.exists():
        at = _where(*where, dotted) if where else None
        raise StudyError(f"{at + ': ' if at else ''}{dotted}: file not found: {p}")
    return p


def _check_value(ok: bool, value: Any, dotted: str, expected: str, path: Path, text: str) -> None:
    if not ok:
        raise StudyKeyError(
            f"{_where(path, text, dotted)}: '{dotted}' must be {expected}, got {value!r}"
        )


_MAX_SEED = 2**32 - 1  # python-louvain and numpy's legacy generator take seeds up to 2**32 - 1
#: Most bootstrap resamples: the bootstrap holds a resamples x (distinct account profiles) matrix
#: of floats (10,000 x 10,000 profiles: 0.8 GB), and the Monte Carlo error of a percentile bound
#: at 10,000 resamples is already far below the whole percentage points the report shows.
MAX_BOOTSTRAP = 10_000


def _check_parameters(study: Study, path: Path, text: str) -> None:
    """Refuse parameter values outside their range, naming the key and its line."""
    c, st, sp = study.communities, study.stance, study.support
    seed_range = f"an integer from 0 to {_MAX_SEED}"
    checks = [
        (
            math.isfinite(c.resolution) and c.resolution > 0,
            c.resolution,
            "communities.resolution",
            "a number > 0",
        ),
        (0 <= c.seed <= _MAX_SEED, c.seed, "communities.seed", seed_range),
        (c.runs >= 1, c.runs, "communities.runs", "at least 1"),
        (
            -1 <= st.positive_threshold <= 1,
            st.positive_threshold,
            "stance.positive_threshold",
            "between -1 and 1 (VADER compound scores)",
        ),
        (
            -1 <= st.negative_threshold < st.positive_threshold,
            st.negative_threshold,
            "stance.negative_threshold",
            "between -1 and stance.positive_threshold",
        ),
        (
            1 <= sp.bootstrap <= MAX_BOOTSTRAP,
            sp.bootstrap,
            "support.bootstrap",
            f"from 1 to {MAX_BOOTSTRAP:,} (memory grows with it; more resamples do not change "
            "the rounded intervals)",
        ),
        (0 <= sp.seed <= _MAX_SEED, sp.seed, "support.seed", seed_range),
        (
            sp.breadth_min_supporters >= 1,
            sp.breadth_min_supporters,
            "support.breadth_min_supporters",
            "at least 1",
        ),
        (sp.top_n >= 1, sp.top_n, "support.top_n", "at least 1"),
        (0 < sp.confidence < 1, sp.confidence, "support.confidence", "between 0 and 1"),
    ]
    for ok, value, dotted, expected in checks:
        _check_value(ok, value, dotted, expected, path, text)


def load_study(path: str | Path) -> Study:
    """Read, validate and return the study at ``path``.

    Raises
    ------
    StudyKeyError
        Unknown key, missing key or wrong type; the message names the key and its line.
    StudyError
        Missing input file, invalid TOML, or an impossible window.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # (a byte order mark, as Notepad writes)
    except FileNotFoundError:
        raise StudyError(f"{path}: study file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StudyError(f"{path}: cannot read study file ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StudyError(f"{path}: invalid TOML: {exc}") from None
    _check(data, _SPEC, "", path, text)
    base = path.resolve().parent

    st = data.get("study", {})
    name = _require(data, "study.name", path, text)
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise StudyKeyError(
            f"{_where(path, text, 'name')}: 'study.name' must be letters, digits, _ . -"
        )
    focal = _handles(_require(data, "study.focal", path, text), "focal", path, text)
    if not focal:
        raise StudyKeyError(
            f"{_where(path, text, 'focal')}: 'study.focal' must name at least one handle"
        )
    institution = _handles(st.get("institution", []), "institution", path, text)
    if clash := both_sides(focal, institution):
        raise StudyKeyError(f"{_where(path, text, 'institution')}: {clash}")
    proxies = _handles(st.get("proxies", []), "proxies", path, text)
    for m in st.get("markers", []):
        if not isinstance(m, str):
            raise StudyKeyError(
                f"{_where(path, text, 'markers')}: 'study.markers' must list hashtags or "
                f"phrases (strings), got {m!r}"
            )
    markers = tuple(
        dict.fromkeys(str(m).strip().lower() for m in st.get("markers", []) if str(m).strip())
    )

    w = data.get("windows", {})
    for length, instant in (("baseline_days", "baseline_start"), ("after_days", "after_end")):
        if length in w and instant in w:
            raise StudyKeyError(
                f"{_where(path, text, f'windows.{instant}')}: give 'windows.{length}' or "
                f"'windows.{instant}', not both (they say where the same window starts or ends)"
            )
    cs = _require(data, "windows.crisis_start", path, text)
    ce = _require(data, "windows.crisis_end", path, text)
    try:
        around = Windows.from_crisis(cs, ce, w.get("baseline_days", 14), w.get("after_days", 14))
        windows = Windows(
            parse_instant(w["baseline_start"], "windows.baseline_start")
            if "baseline_start" in w
            else around.baseline_start,
            around.crisis_start,
            around.crisis_end,
            parse_instant(w["after_end"], "windows.after_end")
            if "after_end" in w
            else around.after_end,
        )
    except StudyError as exc:  # name the study file too
        raise StudyError(f"{path}: {exc}") from None

    inputs_raw = data.get("inputs", [])
    if not inputs_raw:
        raise StudyKeyError(f"{path}: the study needs at least one [[inputs]] table with a path")
    inputs = []
    for i, item in enumerate(inputs_raw):
        dotted = f"inputs[{i}]"
        if "path" not in item:
            raise StudyKeyError(f"{path}: missing required key '{dotted}.path'")
        fmt = item.get("format", "auto")
        if fmt not in INPUT_FORMATS:
            raise StudyKeyError(
                f"{_where(path, text, 'format')}: '{dotted}.format' is {fmt!r}; "
                f"expected one of {', '.join(INPUT_FORMATS)}"
            )
        direction = item.get("direction", "followers")
        if direction not in ("followers", "following"):
            raise StudyKeyError(f"{path}: '{dotted}.direction' must be 'followers' or 'following'")
        mapping = tuple(sorted((str(k), str(v)) for k, v in item.get("map", {}).items()))
        columns = item.get("columns", [])
        if not all(isinstance(c, str) and c.strip() for c in columns):
            raise StudyKeyError(
                f"{_where(path, text, 'columns')}: '{dotted}.columns' must list column names"
            )
        inputs.append(
            InputSpec(
                path=_resolve(base, item["path"], f"{dotted}.path", where=(path, text)),
                format=fmt,
                mapping=mapping,
                account=normalise_handle(item["account"]) if "account" in item else None,
                direction=direction,
                header=item.get("header", True) and not columns,
                columns=tuple(c.strip() for c in columns),
                instance=item["instance"].strip().lower() if "instance" in item else None,
            )
        )

    c = data.get("communities", {})
    algorithm = c.get("algorithm", "auto")
    if algorithm not in ("louvain", "leiden", "multilevel", "auto"):
        raise StudyKeyError(
            f"{_where(path, text, 'algorithm')}: 'communities.algorithm' must be louvain, leiden, "
            f"multilevel or auto, got {algorithm!r}"
        )
    communities = CommunityParams(
        algorithm=algorithm,
        resolution=float(c.get("resolution", 1.0)),
        seed=int(c.get("seed", 42)),
        runs=int(c.get("runs", 1)),
    )
    s = data.get("stance", {})
    stance = StanceParams(
        lexicon=_resolve(base, s["lexicon"], "stance.lexicon", where=(path, text))
        if "lexicon" in s
        else None,
        labels=_resolve(base, s["labels"], "stance.labels", where=(path, text))
        if "labels" in s
        else None,
        positive_threshold=float(s.get("positive_threshold", 0.05)),
        negative_threshold=float(s.get("negative_threshold", -0.05)),
        likes_count=s.get("likes_count", True),
    )
    sp = data.get("support", {})
    support = SupportParams(
        bootstrap=int(sp.get("bootstrap", 1000)),
        seed=int(sp.get("seed", communities.seed)),
        breadth_min_supporters=int(sp.get("breadth_min_supporters", 3)),
        top_n=int(sp.get("top_n", 10)),
        confidence=float(sp.get("confidence", 0.95)),
    )
    o = data.get("output", {})
    out_dir = _resolve(
        base, o.get("dir", f"reports/{name}"), "output.dir", must_exist=False, where=(path, text)
    )
    store_dir = (
        _resolve(base, o["store"], "output.store", False, where=(path, text))
        if "store" in o
        else default_store(out_dir)
    )
    problem = layout_problem(out_dir, store_dir)
    if problem is not None:
        key = "output.store" if "store" in o else "output.dir"
        raise StudyKeyError(f"{_where(path, text, key)}: {problem}")
    gexf_max_edges = o.get("gexf_max_edges", DEFAULT_GEXF_MAX_EDGES)
    if isinstance(gexf_max_edges, bool) or gexf_max_edges < 1:
        raise StudyKeyError(
            f"{_where(path, text, 'output.gexf_max_edges')}: output.gexf_max_edges must be a "
            f"positive integer (edges of graph.gexf), got {gexf_max_edges!r}"
        )
    accounts = (
        _resolve(base, st["accounts"], "study.accounts", where=(path, text))
        if "accounts" in st
        else None
    )
    account_map = (
        _resolve(base, st["account_map"], "study.account_map", where=(path, text))
        if "account_map" in st
        else None
    )
    study = Study(
        name=name,
        focal=focal,
        institution=institution,
        windows=windows,
        inputs=tuple(inputs),
        proxies=proxies,
        markers=markers,
        communities=communities,
        stance=stance,
        support=support,
        sensitivity=_sensitivity(data.get("sensitivity", {}), path, text),
        output_dir=out_dir,
        store_dir=store_dir,
        accounts=accounts,
        path=path.resolve(),
        account_map=account_map,
        gexf_max_edges=gexf_max_edges,
    )
    _check_parameters(study, path, text)
    return _with_evidence_keys(study, data, base, path, text)


def _with_evidence_keys(study: Study, data: dict, base: Path, path: Path, text: str) -> Study:
    """Return ``study`` with the keys of issue 15 read: ``windows.uncovered``,
    ``study.primary``, ``[provenance]``, ``output.pseudonymise`` and ``output.salt_file``."""
    from dataclasses import replace

    from .measures import PRIMARY_MEASURES, valid_primary

    uncovered = data.get("windows", {}).get("uncovered", "cut")
    _check_value(
        uncovered in ("cut", "refuse"), uncovered, "windows.uncovered", "cut or refuse", path, text
    )
    primary = data.get("study", {}).get("primary", [])
    for name in primary:
        _check_value(
            isinstance(name, str) and valid_primary(name),
            name,
            "study.primary",
            "a list of headline measures ("
            + ", ".join(PRIMARY_MEASURES)
            + "; a per-side one may end in .focal or .institution)",
            path,
            text,
        )
    pv = data.get("provenance", {})
    coders = pv.get("coders", [])
    _check_value(
        all(isinstance(c, str) and c.strip() for c in coders),
        coders,
        "provenance.coders",
        "a list of names (strings)",
        path,
        text,
    )

    def when(key: str) -> str | None:
        v = pv.get(key)
        return None if v is None else (v.isoformat() if hasattr(v, "isoformat") else str(v))

    follows_collected = _collection_date(pv.get("follows_collected"))
    _check_value(
        "follows_collected" not in pv or follows_collected is not None,
        pv.get("follows_collected"),
        "provenance.follows_collected",
        "a date (YYYY-MM-DD, or a date and time such as 2014-03-05T12:00:00Z)",
        path,
        text,
    )
    provenance = Provenance(
        method=pv.get("method"),
        query=pv.get("query"),
        collected_from=when("collected_from"),
        collected_to=when("collected_to"),
        coders=tuple(c.strip() for c in coders),
        ethics=pv.get("ethics"),
        preregistration=(pv.get("preregistration") or "").strip() or None,  # (blank: none)
        follows_collected=follows_collected,
        synthetic=bool(pv.get("synthetic", False)),
        notes=pv.get("notes"),
    )
    o = data.get("output", {})
    salt_file = (
        _resolve(base, o["salt_file"], "output.salt_file", where=(path, text))
        if "salt_file" in o
        else None
    )
    return replace(
        study,
        uncovered=uncovered,
        primary=tuple(dict.fromkeys(primary)),
        provenance=provenance,
        pseudonymise=bool(o.get("pseudonymise", False)),
        salt_file=salt_file,
    )


def _collection_date(value: Any) -> str | None:
    """Return a collection date as ISO text: ``YYYY-MM-DD`` for a date, ``YYYY-MM-DDTHH:MM:SSZ``
    (UTC; a time without an offset is taken as UTC) for a date and time; None when ``value`` is
    neither (a TOML date or date-time, or a string holding one).

    Examples
    --------
    >>> import datetime as dt
    >>> _collection_date(dt.date(2014, 3, 5)), _collection_date("2014-03-05")
    ('2014-03-05', '2014-03-05')
    >>> _collection_date("2014-03-05T13:00:00+01:00")
    '2014-03-05T12:00:00Z'
    >>> _collection_date("last spring"), _collection_date("2014-02-30"), _collection_date(5)
    (None, None, None)
    """
    import datetime as dt

    if isinstance(value, dt.datetime):
        ts = value
    elif isinstance(value, dt.date):
        return value.isoformat()
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
        try:
            ts = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    ts = ts.replace(tzinfo=dt.UTC) if ts.tzinfo is None else ts.astimezone(dt.UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%SZ")


_MAX_SHIFT_DAYS = 14  # a crisis moved by more is another study, not a sensitivity check
_MAX_BASELINE_DAYS = 366
_MAX_SENSITIVITY_SEEDS = 50


def _sensitivity(sec: dict, path: Path, text: str) -> SensitivityParams:
    """Return the ``[sensitivity]`` grid, refusing values out of range (naming key and line)."""
    d = SensitivityParams()

    def numbers(key: str, ok: Any, expected: str) -> tuple[float, ...]:
        values = sec.get(key, getattr(d, key))
        dotted = f"sensitivity.{key}"
        _check_value(len(values) > 0, values, dotted, "a non-empty list", path, text)
        for v in values:
            good = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            _check_value(good and ok(v), v, dotted, expected, path, text)
        return tuple(sorted({float(v) for v in values}))

    shifts = numbers(
        "window_shift_days",
        lambda v: abs(v) <= _MAX_SHIFT_DAYS,
        f"a list of day shifts between -{_MAX_SHIFT_DAYS} and {_MAX_SHIFT_DAYS}",
    )
    baseline = numbers(
        "baseline_days",
        lambda v: 0 < v <= _MAX_BASELINE_DAYS,
        f"a list of day counts > 0 and <= {_MAX_BASELINE_DAYS}",
    )
    thresholds = numbers("thresholds", lambda v: 0 <= v < 1, "a list of VADER cut-offs in [0, 1)")
    resolutions = numbers("resolutions", lambda v: 0 < v <= 100, "a list of numbers in (0, 100]")
    algorithms = sec.get("algorithms", list(d.algorithms))
    _check_value(
        len(algorithms) > 0, algorithms, "sensitivity.algorithms", "a non-empty list", path, text
    )
    for a in algorithms:
        _check_value(
            a in ("louvain", "leiden", "multilevel"),
            a,
            "sensitivity.algorithms",
            "a list of louvain, leiden, multilevel",
            path,
            text,
        )
    seeds = sec.get("seeds", d.seeds)
    _check_value(
        2 <= seeds <= _MAX_SENSITIVITY_SEEDS,
        seeds,
        "sensitivity.seeds",
        f"an integer from 2 to {_MAX_SENSITIVITY_SEEDS}",
        path,
        text,
    )
    tau = sec.get("consensus_threshold", d.consensus_threshold)
    _check_value(
        0 < tau <= 1 and math.isfinite(tau),
        tau,
        "sensitivity.consensus_threshold",
        "a share in (0, 1]",
        path,
        text,
    )
    max_edges = sec.get("community_max_edges", d.community_max_edges)
    _check_value(
        max_edges >= 0,
        max_edges,
        "sensitivity.community_max_edges",
        "an integer >= 0 (0: never reduce the community grid)",
        path,
        text,
    )
    return SensitivityParams(
        window_shift_days=shifts,
        baseline_days=baseline,
        thresholds=thresholds,
        algorithms=tuple(dict.fromkeys(algorithms)),
        resolutions=resolutions,
        seeds=int(seeds),
        consensus_threshold=float(tau),
        community_max_edges=int(max_edges),
    )


_ = Window  # re-exported for doctest convenience

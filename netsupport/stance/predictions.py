"""The stance model's predictions, the validation's figures and the rules' scores of the
distinct texts, kept beside the model.

A rerun with the same saved model and the same feature rows (``netsupport run --force`` on
unchanged data) reads the model's decisions back from a small file instead of importing
scikit-learn and skops (~1.4 CPU-s: skops lists every estimator), loading the model and scoring;
the agreement and error figures (sklearn.metrics, ~0.7 CPU-s to import) from theirs; and the
rules' and VADER's scores of the distinct texts from theirs (no scoring workers).

Each file is keyed by the sha256 of everything its content depends on: the predictions by the
model file's bytes and the distinct feature rows in the order they are predicted (texts, side,
rule stance and family, VADER); the figures by their inputs; the rules' scores by the texts in
order and the classifier's lexicon, handles and thresholds; all by the versions of the libraries
that compute them, a version constant and the source of this package and of the schema
(:func:`code_hash`), so a change to any of them misses and the result is computed again.
Files are written atomically into the model folder only, each replacing the one it supersedes:
``stance-predictions-<key>.npz`` and ``stance-rules-<key>.npz`` (read with
``allow_pickle=False``), ``stance-figures-<slot>.<key>.json``.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from ..textsafe import atomic_write_bytes

__all__ = [
    "FIGURES_VERSION",
    "PREDICTIONS_VERSION",
    "RULES_VERSION",
    "ModelInfo",
    "Predictions",
    "code_hash",
    "distinct_rows",
    "file_sha256",
    "kept_figures",
    "library_version",
    "predictions_key",
    "predictions_model_sha",
    "read_predictions",
    "read_rule_rows",
    "rule_rows_key",
    "write_predictions",
    "write_rule_rows",
]

#: Version of what the kept predictions mean (part of their key, with :func:`code_hash`).
PREDICTIONS_VERSION = 1
#: Version of what the kept figures mean (part of their key, with :func:`code_hash`).
FIGURES_VERSION = 1
#: Version of what the kept rule scores mean (part of their key, with :func:`code_hash`).
RULES_VERSION = 1
_PREFIX = "stance-predictions-"
_FIGURES = "stance-figures-"
_RULES = "stance-rules-"
#: Libraries whose versions are part of the keys: the ones that score and measure.
_LIBRARIES = ("scikit-learn", "numpy", "scipy")
_CODE_HASH: str | None = None


def code_hash() -> str:
    """Return the sha256 of this package's source files (netsupport/stance/*.py: the code that
    scores, makes the features, predicts and measures) and of netsupport/schema.py (the stance
    and side names); part of every key here."""
    global _CODE_HASH
    if _CODE_HASH is None:
        here = Path(__file__).resolve().parent
        h = hashlib.sha256()
        for p in [*sorted(here.glob("*.py")), here.parent / "schema.py"]:
            h.update(p.name.encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


@dataclass(frozen=True)
class ModelInfo:
    """What the step needs of a fitted model besides its predictions (layout, regularisation,
    codes): kept with the predictions so a cache hit needs no model."""

    shared: bool
    n_labels: int
    c: dict[str, float]

    @property
    def layout(self) -> str:
        return "shared" if self.shared else "per side"

    @classmethod
    def of(cls, model: ModelInfo | object) -> ModelInfo:
        """Return the info of a :class:`~netsupport.stance.model.StanceModel` (or of one)."""
        return cls(bool(model.shared), int(model.n_labels), dict(model.c))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Predictions:
    """The model's stance and its probability for each distinct feature row, and the model's
    info."""

    stance: np.ndarray  # object: str, None where no pipeline decided
    prob: np.ndarray  # float64
    info: ModelInfo


def library_version(name: str) -> str:
    """Return an installed distribution's version without importing it (scikit-learn's
    import costs ~0.7 CPU-s); the module's ``__version__`` if the metadata is missing."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # (a source checkout without metadata)
        import importlib

        module = {"scikit-learn": "sklearn"}.get(name, name)
        return str(importlib.import_module(module).__version__)


def distinct_rows(x: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return (the distinct row each row is, by number; the first row of each distinct row):
    numbered in the order of a sort of their integer keys, as the model predicts them."""
    codes = np.zeros(len(x), dtype=np.int64)
    for col in columns:  # one integer key per distinct feature tuple
        c, u = pd.factorize(x[col], sort=False)
        codes = codes * (len(u) + 1) + (c + 1)
        codes = pd.factorize(codes, sort=False)[0].astype(np.int64)
    first = pd.Series(np.arange(len(x))).groupby(codes, sort=True).first().to_numpy()
    return codes, first


def file_sha256(path: str | Path) -> str:
    """Return the sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def predictions_key(model_sha: str, distinct: pd.DataFrame, model_version: int) -> str:
    """Return the sha256 of everything the predictions of ``distinct`` rows depend on: the
    model file, the rows (every column, in order), the libraries' versions and the code's."""
    h = hashlib.sha256()
    head = {
        "predictions": PREDICTIONS_VERSION,
        "model_version": model_version,
        "code": code_hash(),
        "model_sha256": model_sha,
        "libraries": {name: library_version(name) for name in _LIBRARIES},
        "columns": [str(c) for c in distinct.columns],
        "rows": len(distinct),
    }
    h.update(json.dumps(head, sort_keys=True).encode() + b"\n")
    for col in distinct.columns:
        values = distinct[col]
        if pd.api.types.is_float_dtype(values.dtype):
            h.update(b"f" + values.to_numpy(dtype="float64").tobytes())
        else:  # JSON: unambiguous for any text (quotes and control characters escaped)
            h.update(b"s" + json.dumps(values.astype(object).tolist()).encode())
        h.update(b"\n")
    return h.hexdigest()


def _path(model_dir: str | Path, key: str) -> Path:
    return Path(model_dir) / f"{_PREFIX}{key[:24]}.npz"


def read_predictions(model_dir: str | Path, key: str) -> Predictions | None:
    """Return the predictions kept under ``key`` in ``model_dir``; None when there are none,
    or the file is damaged or not the one the key names."""
    path = _path(model_dir, key)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key:
                return None
            stance = z["stance"].astype(object)
            prob = z["prob"].astype("float64")
            info = json.loads(str(z["info"]))
        if len(stance) != len(prob):
            return None
        stance[stance == ""] = None
        c = {str(k): float(v) for k, v in info["c"].items()}
        return Predictions(stance, prob, ModelInfo(bool(info["shared"]), int(info["n_labels"]), c))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile):
        return None  # a damaged file: predicted again


def write_predictions(
    model_dir: str | Path, key: str, model_sha: str, predictions: Predictions
) -> Path:
    """Keep ``predictions`` under ``key`` in ``model_dir`` (atomic), replacing earlier ones."""
    info = predictions.info
    stance = np.array(["" if s is None else str(s) for s in predictions.stance], dtype=str)
    buf = io.BytesIO()
    np.savez(
        buf,
        key=np.array(key),
        model_sha256=np.array(model_sha),
        stance=stance,
        prob=np.asarray(predictions.prob, dtype="float64"),
        info=np.array(json.dumps({"shared": info.shared, "n_labels": info.n_labels, "c": info.c})),
    )
    path = _path(model_dir, key)
    for old in Path(model_dir).glob(f"{_PREFIX}*.npz"):
        if old != path:
            old.unlink()
    return atomic_write_bytes(path, buf.getvalue())


def predictions_model_sha(model_dir: str | Path) -> str | None:
    """Return the sha256 of the model file the kept predictions were made with (None: none
    kept, or a damaged file)."""
    found = sorted(Path(model_dir).glob(f"{_PREFIX}*.npz"))
    if len(found) != 1:
        return None
    try:
        with np.load(found[0], allow_pickle=False) as z:
            return str(z["model_sha256"])
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def _figure_input(values: Sequence[object] | np.ndarray | None) -> object:
    """An input of a figure function as its key sees it: floats by their bytes, anything else
    by the text the functions compare (they take ``str`` of each value)."""
    if values is None:
        return None
    arr = np.asarray(values)
    if arr.dtype.kind in "fiu":
        return ["f", arr.astype("float64").tobytes().hex()]
    return ["s", [str(v) for v in values]]


def kept_figures(
    model_dir: str | Path | None,
    slot: str,
    fn: Callable[..., dict[str, object]],
    *args: Sequence[object] | np.ndarray | None,
) -> dict[str, object]:
    """Return ``fn(*args)`` (a JSON document of figures), read back from ``model_dir`` when it
    was computed there from the same inputs with the same code and libraries.

    ``slot`` names the figure (one file each: a new one replaces the slot's old one). Without
    ``model_dir``, computed and not kept.
    """
    if model_dir is None:
        return fn(*args)
    head = {
        "figures": FIGURES_VERSION,
        "code": code_hash(),
        "function": f"{fn.__module__}.{fn.__qualname__}",
        "libraries": {name: library_version(name) for name in _LIBRARIES},
        "slot": slot,
    }
    blob = json.dumps([head, [_figure_input(a) for a in args]], sort_keys=True)
    key = hashlib.sha256(blob.encode()).hexdigest()
    path = Path(model_dir) / f"{_FIGURES}{slot}.{key[:24]}.json"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(doc, dict) and doc.get("key") == key and isinstance(doc["value"], dict):
            return doc["value"]
    except (OSError, ValueError, KeyError):
        pass  # none yet, or a damaged file: computed again
    value = fn(*args)
    try:
        text = json.dumps({"key": key, "value": value})
    except (TypeError, ValueError):  # (not a JSON document: not kept)
        return value
    for old in Path(model_dir).glob(f"{_FIGURES}{slot}.*.json"):
        old.unlink()
    atomic_write_bytes(path, text.encode())
    return value


def rule_rows_key(analyser: str, vader: bool, texts: Sequence[str]) -> str:
    """Return the sha256 of everything the rules' scores of ``texts`` depend on: the texts in
    order, the classifier (``analyser``: the repr of its lexicon, handles and thresholds),
    whether VADER's compound is added, VADER's version and the code."""
    head = {
        "rules": RULES_VERSION,
        "code": code_hash(),
        "vaderSentiment": library_version("vaderSentiment"),
        "analyser": analyser,
        "vader": bool(vader),
        "texts": len(texts),
    }
    h = hashlib.sha256(json.dumps(head, sort_keys=True).encode() + b"\n")
    h.update(json.dumps(list(texts)).encode())
    return h.hexdigest()


def read_rule_rows(folder: str | Path, key: str, columns: Sequence[str]) -> list[tuple] | None:
    """Return the rule rows (one tuple per text, ``columns`` in order) kept under ``key`` in
    ``folder``; None when there are none, or the file is damaged or not the key's."""
    path = Path(folder) / f"{_RULES}{key[:24]}.npz"
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["key"]) != key or json.loads(str(z["columns"])) != list(columns):
                return None
            cols = []
            for i in range(len(columns)):
                if f"f{i}" in z.files:
                    cols.append(z[f"f{i}"].astype("float64").tolist())
                else:
                    cols.append(json.loads(str(z[f"s{i}"])))
        if len({len(c) for c in cols}) > 1:
            return None
        return list(zip(*cols, strict=True)) if cols and cols[0] else []
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile):
        return None  # a damaged file: scored again


def write_rule_rows(
    folder: str | Path, key: str, columns: Sequence[str], rows: Sequence[tuple]
) -> Path | None:
    """Keep the rule rows under ``key`` in ``folder`` (atomic), replacing earlier ones: columns
    whose values are all numbers as float64, the others as JSON text (None kept)."""
    arrays: dict[str, np.ndarray] = {
        "key": np.array(key),
        "columns": np.array(json.dumps(list(columns))),
    }
    for i in range(len(columns)):
        values = [r[i] for r in rows]
        if values and all(isinstance(v, float | int) and not isinstance(v, bool) for v in values):
            arrays[f"f{i}"] = np.asarray(values, dtype="float64")
        else:
            try:
                arrays[f"s{i}"] = np.array(json.dumps(values))
            except (TypeError, ValueError):  # (not JSON values: not kept)
                return None
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    path = Path(folder) / f"{_RULES}{key[:24]}.npz"
    for old in Path(folder).glob(f"{_RULES}*.npz"):
        if old != path:
            old.unlink()
    return atomic_write_bytes(path, buf.getvalue())

"""Stable salted pseudonyms for every handle in a study's outputs (``--pseudonymise``).

A handle becomes ``u_`` and the first 12 hex digits of HMAC-SHA256(salt, handle): the same
handle gets the same pseudonym in every output and on every rebuild with the same salt, and
without the salt the pseudonym cannot be turned back into the handle by trying handles. Account
ids and post ids are replaced the same way (``i_``, ``p_``); post texts are withheld from the
outputs (they stay in memory, with their @handles replaced, for stance classification).

The salt is read from the environment variable ``NETSUPPORT_SALT`` or from a file the study names
(``[output] salt_file``, kept out of version control); it is never written anywhere. The store
and the run cache in the work folder beside the report still hold the original data: share the
report files (METHODS.md, "Research practice").

Examples
--------
>>> p = Pseudonymiser(b"pepper")
>>> p.handle("inspector_lane") == p.handle("inspector_lane"), p.handle("inspector_lane")[:2]
(True, 'u_')
>>> p.text("thanks @Inspector_Lane!") == "thanks @" + p.handle("inspector_lane") + "!"
True
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import StudyError
from .schema import AccountCol, FollowCol, InteractionCol, PostCol, Table

__all__ = ["SALT_ENV", "WITHHELD", "Pseudonymiser", "load_salt", "pseudonymised"]

#: The environment variable holding the salt.
SALT_ENV = "NETSUPPORT_SALT"
#: What replaces a post's text in the outputs.
WITHHELD = "[text withheld]"
_HANDLE_RE = re.compile(r"(?<![\w@])@(\w{1,50})")  # as the stance rules read handles


def load_salt(study: Any) -> bytes:
    """Return the salt for a pseudonymised study: ``NETSUPPORT_SALT``, else the salt file.

    Raises
    ------
    StudyError
        Neither is set, or the salt is shorter than 16 characters (a short salt can be found by
        trying salts against a pseudonym of a known handle); the message says what to do.
    """
    salt = os.environ.get(SALT_ENV)
    where = f"environment variable {SALT_ENV}"
    if not salt and getattr(study, "salt_file", None) is not None:
        path = Path(study.salt_file)
        try:
            salt = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise StudyError(f"output.salt_file: {path}: cannot read ({exc})") from None
        where = f"output.salt_file ({path.name})"
    if not salt:
        raise StudyError(
            f"{getattr(study, 'path', None) or 'study'}: output.pseudonymise needs a salt: set "
            f"{SALT_ENV} or name a secret file with [output] salt_file (at least 16 characters, "
            "kept out of version control)"
        )
    if len(salt) < 16:
        raise StudyError(f"{where}: the salt must have at least 16 characters")
    return salt.encode("utf-8")


class Pseudonymiser:
    """Maps handles, account ids and post ids to salted pseudonyms (see the module doc)."""

    def __init__(self, salt: bytes):
        self._salt = bytes(salt)
        self._cache: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:  # never show the salt
        return "Pseudonymiser(<salt withheld>)"

    def fingerprint(self) -> str:
        """Return a digest that changes with the salt (for cache keys; a pseudonym reveals as
        much about the salt)."""
        return self._mac("cache", "netsupport")

    def _mac(self, prefix: str, value: str) -> str:
        key = (prefix, value)
        out = self._cache.get(key)
        if out is None:
            digest = hmac.new(self._salt, f"{prefix}:{value}".encode(), hashlib.sha256)
            out = self._cache[key] = f"{prefix}_{digest.hexdigest()[:12]}"
        return out

    def handle(self, h: Any) -> Any:
        """Return the pseudonym of a (normalised) handle; missing values stay missing."""
        if h is None or (isinstance(h, float) and h != h) or h is pd.NA:
            return h
        return self._mac("u", str(h).lower())

    def post_id(self, pid: Any) -> Any:
        """Return the pseudonym of a post id."""
        if pid is None or (isinstance(pid, float) and pid != pid) or pid is pd.NA:
            return pid
        return self._mac("p", str(pid))

    def account_id(self, aid: Any) -> Any:
        """Return the pseudonym of an account id."""
        if aid is None or (isinstance(aid, float) and aid != aid) or aid is pd.NA:
            return aid
        return self._mac("i", str(aid))

    def text(self, t: Any) -> Any:
        """Return ``t`` with every @handle replaced by its pseudonym (for classification)."""
        if not isinstance(t, str):
            return t
        return _HANDLE_RE.sub(lambda m: "@" + self.handle(m.group(1).lower()), t)

    def names(self, text: str, handles: Any) -> str:
        """Return ``text`` (a file name) with each of ``handles`` in it replaced by its
        pseudonym, longest first, ignoring case."""
        for h in sorted(set(handles), key=lambda x: (-len(x), x)):
            text = re.sub(re.escape(h), self.handle(h), text, flags=re.IGNORECASE)
        return text

    def _map(self, s: pd.Series, fn: Any) -> pd.Series:
        values = s.astype(object).to_numpy()
        uniq = pd.unique(values)
        lookup = {v: fn(v) for v in uniq if v is not None and v == v}
        return pd.Series(
            [lookup.get(v, v) if v is not None and v == v else v for v in values],
            index=s.index,
            dtype=object,
        )

    def _handles_in(self, s: pd.Series) -> pd.Series:
        """Space-separated handle lists (posts' ``mentions``)."""
        return self._map(s, lambda v: " ".join(self.handle(h) for h in str(v).split()))

    def tables(self, tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Return the canonical tables with every handle and account id pseudonymised and the
        handles inside texts and profiles replaced (post ids are kept: hand labels use them)."""
        out: dict[str, pd.DataFrame] = {}
        for name, df in tables.items():
            if df is None:
                out[name] = df
                continue
            df = df.copy()
            cols = set(df.columns)
            if name == Table.POSTS:
                for c in (PostCol.AUTHOR, PostCol.TARGET_AUTHOR):
                    if c in cols:
                        df[c] = self._map(df[c], self.handle)
                if PostCol.AUTHOR_ID in cols:
                    df[PostCol.AUTHOR_ID] = self._map(df[PostCol.AUTHOR_ID], self.account_id)
                if PostCol.MENTIONS in cols:
                    df[PostCol.MENTIONS] = self._handles_in(df[PostCol.MENTIONS])
                if PostCol.TEXT in cols:
                    df[PostCol.TEXT] = self._map(df[PostCol.TEXT], self.text)
            elif name == Table.INTERACTIONS:
                for c in (InteractionCol.SOURCE, InteractionCol.TARGET):
                    df[c] = self._map(df[c], self.handle)
            elif name == Table.FOLLOWS:
                for c in (FollowCol.FOLLOWER, FollowCol.FOLLOWEE):
                    df[c] = self._map(df[c], self.handle)
            elif name == Table.ACCOUNTS:
                df[AccountCol.HANDLE] = self._map(df[AccountCol.HANDLE], self.handle)
                if AccountCol.ACCOUNT_ID in cols:
                    df[AccountCol.ACCOUNT_ID] = self._map(
                        df[AccountCol.ACCOUNT_ID], self.account_id
                    )
                if AccountCol.NAME in cols:
                    df[AccountCol.NAME] = df[AccountCol.HANDLE]
                if AccountCol.DESCRIPTION in cols:
                    df[AccountCol.DESCRIPTION] = self._map(df[AccountCol.DESCRIPTION], self.text)
            out[name] = df
        return out

    def study(self, study: Any) -> Any:
        """Return the study with its focal, institution and proxy handles pseudonymised."""
        return replace(
            study,
            focal=tuple(self.handle(h) for h in study.focal),
            institution=tuple(self.handle(h) for h in study.institution),
            proxies=tuple(self.handle(h) for h in study.proxies),
        )

    def output_tables(self, tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        """Return report tables with post ids pseudonymised and texts withheld."""
        out = {}
        for name, df in tables.items():
            if df is not None and not df.empty:
                df = df.copy()
                for c in ("post_id", "target_post_id"):
                    if c in df.columns:
                        df[c] = self._map(df[c], self.post_id)
                if "text" in df.columns:
                    df["text"] = WITHHELD
            out[name] = df
        return out


def pseudonymised(
    tables: Mapping[str, pd.DataFrame], study: Any, spans: Any = None
) -> tuple[Mapping[str, pd.DataFrame], Any, Any]:
    """Return the tables, study and input spans as the analysis should see them: pseudonymised
    (handles in the input file names too) when the study says ``[output] pseudonymise = true``,
    else unchanged (``netsupport support``)."""
    if not getattr(study, "pseudonymise", False):
        return tables, study, spans
    p = Pseudonymiser(load_salt(study))
    handles = (*study.focal, *study.institution, *study.proxies)
    if spans is not None:
        spans = [replace(s, file=p.names(s.file, handles)) for s in spans]
    return p.tables(tables), p.study(study), spans

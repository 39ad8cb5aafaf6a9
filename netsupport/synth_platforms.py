"""The synthetic case written as Mastodon and Telegram exports, with a study file for each.

``netsupport synth --platforms`` (:func:`netsupport.synth.write_case` with ``platforms=True``)
calls :func:`write_platforms`, which writes beside the Twitter files:

* ``mastodon-statuses.jsonl``: every post as a Mastodon API Status, one a line, as a collector
  on ``town.example`` saves them (accounts of the police community live on ``police.example``
  and are named ``name@police.example``; the others are local to ``town.example``, named
  without a host, their ``url`` giving it). Replies, reblogs (the reblogged status embedded)
  and quotes (Mastodon 4.4's Quote entity) refer to the same ids as the tweets.
* ``telegram-result.json``: every post as a message of one public group, as Telegram Desktop
  exports it (pretty-printed; list-valued ``text`` with ``mention_name`` and ``hashtag``
  entities; replies by message id; reposts as forwards with ``forwarded_from_id``; Telegram has
  no quotes, so a quote is a reply to the quoted message); three service messages (joins) open
  the chat.
* ``study-mastodon.toml`` / ``study-telegram.toml``: the same study on one platform, its focal
  and institution accounts named as the store keys them (``mastodon:inspector_lane@police.example``,
  ``telegram:inspector_lane``), with ``accounts-<platform>.csv`` (roles) and, for Telegram,
  labels whose post ids are ``<chat>/<message>`` and ``account-map-telegram.csv``, which links
  the two sides' sender ids (``telegram:user<id>``) to their usernames (how texts name them).
* ``study-cross.toml``: a cross-platform study. Each post is on Twitter or Mastodon (a seeded
  coin): ``cross-tweets.jsonl`` and ``cross-mastodon.jsonl`` hold the two halves, and
  ``account-map.csv`` links every person's two accounts, so the union is the whole case and the
  planted truth applies.

Examples
--------
>>> import tempfile, pathlib
>>> from netsupport.synth import SynthConfig, synthesize
>>> r = synthesize(tempfile.mkdtemp(), SynthConfig(seed=2, accounts=300, interactions=1000),
...                platforms=True)
>>> sorted(n for n, _ in r.files if "telegram" in n or "mastodon" in n)[:3]
['account-map-telegram.csv', 'accounts-mastodon.csv', 'accounts-telegram.csv']
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .io.platforms import PLATFORM_MASTODON, PLATFORM_TELEGRAM, qualify

__all__ = ["PLATFORM_FILES", "write_platforms"]

MASTODON_NAME = "mastodon-statuses.jsonl"
TELEGRAM_NAME = "telegram-result.json"
CROSS_TWEETS_NAME = "cross-tweets.jsonl"
CROSS_MASTODON_NAME = "cross-mastodon.jsonl"
ACCOUNT_MAP_NAME = "account-map.csv"
#: Every file :func:`write_platforms` writes, in order.
PLATFORM_FILES = (
    MASTODON_NAME,
    TELEGRAM_NAME,
    "accounts-mastodon.csv",
    "accounts-telegram.csv",
    "labels-telegram.csv",
    CROSS_TWEETS_NAME,
    CROSS_MASTODON_NAME,
    ACCOUNT_MAP_NAME,
    "account-map-telegram.csv",
    "study-mastodon.toml",
    "study-telegram.toml",
    "study-cross.toml",
)
HOME = "town.example"  # the collecting instance
POLICE_HOST = "police.example"
CHAT_ID = 1700000001


class _Accounts:
    """Per-account names and store keys on each platform."""

    def __init__(self, case: Any):
        from .synth import COMMUNITIES

        police = COMMUNITIES.index("police")
        self.case = case
        self.handles = case.handles
        self.uid = case.account_ids.astype(str).tolist()
        self.host = [POLICE_HOST if c == police else HOME for c in case.community.tolist()]

    def mastodon_key(self, a: int) -> str:
        return qualify(PLATFORM_MASTODON, f"{self.handles[a]}@{self.host[a]}")

    def telegram_key(self, a: int) -> str:
        return qualify(PLATFORM_TELEGRAM, f"user{self.uid[a]}")

    def status_account(self, a: int) -> dict[str, Any]:
        h, host = self.handles[a], self.host[a]
        return {
            "acct": h if host == HOME else f"{h}@{host}",
            "display_name": self.case.names[a],
            "id": self.uid[a],
            "url": f"https://{host}/@{h}",
            "username": h,
        }


def _status(data: Any, acc: _Accounts, i: int, *, embed: bool = True) -> dict[str, Any]:
    """Post ``i`` as a Mastodon API Status."""
    men, tags, _ = data.ent.of(i)
    mentioned = list(dict.fromkeys(a for _, _, a in men))
    s: dict[str, Any] = {
        "account": acc.status_account(data.author[i]),
        "content": f"<p>{html.escape(data.text[i], quote=False)}</p>",
        "created_at": data.iso[i],
        "id": data.id[i],
        "in_reply_to_account_id": None,
        "in_reply_to_id": None,
        "language": data.lang[i],
        "reblog": None,
        "tags": [{"name": t} for t in dict.fromkeys(t for _, _, t in tags)],
        "visibility": "public",
    }
    r = data.ref[i]
    k = data.kind[i]
    if r >= 0 and embed:
        from .synth.config import _K_QUOTE, _K_REPLY, _K_REPOST

        ra = data.author[r]
        if k == _K_REPLY:
            s["in_reply_to_id"] = data.id[r]
            s["in_reply_to_account_id"] = acc.uid[ra]
            if ra not in mentioned:  # Mastodon mentions the account replied to
                mentioned.insert(0, ra)
        elif k == _K_REPOST:
            s["reblog"] = _status(data, acc, r, embed=False)
            s["content"] = ""
            s["tags"] = []
            mentioned = []
        elif k == _K_QUOTE:
            s["quote"] = {"state": "accepted", "quoted_status": _status(data, acc, r, embed=False)}
    s["mentions"] = [
        {k2: v for k2, v in acc.status_account(a).items() if k2 != "display_name"}
        for a in mentioned
    ]
    return s


def _write_statuses(case: Any, acc: _Accounts, path: Path, keep: np.ndarray) -> None:
    from .synth.twitter import _atomic, _TweetData

    data = _TweetData(case)
    order = np.flatnonzero(keep)
    buf = io.BytesIO()
    for start in range(0, len(order), 5000):
        data.load(order[start : start + 5000])
        for i in order[start : start + 5000].tolist():
            buf.write(orjson.dumps(_status(data, acc, i), option=orjson.OPT_SORT_KEYS) + b"\n")
    _atomic(path, buf.getvalue())


def _telegram_text(text: str, men: list, tags: list, acc: _Accounts) -> list:
    """A message's ``text`` as Telegram writes it: plain strings between entity objects."""
    ents = sorted(
        [
            (s, e, {"type": "mention_name", "text": text[s:e], "user_id": int(acc.uid[a])})
            for s, e, a in men
        ]
        + [(s, e, {"type": "hashtag", "text": text[s:e]}) for s, e, _ in tags]
    )
    out: list = []
    pos = 0
    for s, e, ent in ents:
        if s < pos:
            continue
        if s > pos:
            out.append(text[pos:s])
        out.append(ent)
        pos = e
    if pos < len(text):
        out.append(text[pos:])
    return out


def _write_telegram(case: Any, acc: _Accounts, path: Path) -> dict[str, str]:
    """Write the chat; return {post id: telegram post id}."""
    from .synth.config import _K_REPOST
    from .synth.twitter import _atomic, _TweetData

    data = _TweetData(case)
    n = len(case.posts["id"])
    order = np.argsort(case.posts["ts"], kind="stable")
    msg_id = np.empty(n, dtype=np.int64)
    msg_id[order] = np.arange(4, n + 4)  # 1-3: the service messages
    ids: dict[str, str] = {}
    out = io.StringIO()
    out.write(
        f'{{\n "name": "Northshire Watch",\n "type": "public_supergroup",\n "id": {CHAT_ID},\n'
    )
    out.write(' "messages": [\n')
    t0 = int(case.posts["ts"][order[0]]) if n else 0
    pieces = []
    for k in range(3):  # joins
        who = int(case.posts["author"][order[k]]) if n > k else 0
        pieces.append(
            {
                "id": k + 1,
                "type": "service",
                "date_unixtime": str(t0 - 3600 + k),
                "actor": case.names[who],
                "actor_id": f"user{acc.uid[who]}",
                "action": "join_group_by_link",
                "text": "",
                "text_entities": [],
            }
        )
    for p in pieces:
        out.write(_indent(p) + ",\n")
    for start in range(0, n, 5000):
        chunk = order[start : start + 5000]
        data.load(chunk)
        for i in chunk.tolist():
            a = data.author[i]
            men, tags, _ = data.ent.of(i)
            ts = int(case.posts["ts"][i])
            m: dict[str, Any] = {
                "id": int(msg_id[i]),
                "type": "message",
                "date": data.iso[i][:19],
                "date_unixtime": str(ts),
                "from": case.names[a],
                "from_id": f"user{acc.uid[a]}",
            }
            r = data.ref[i]
            if r >= 0:
                if data.kind[i] == _K_REPOST:
                    m["forwarded_from"] = case.names[data.author[r]]
                    m["forwarded_from_id"] = f"user{acc.uid[data.author[r]]}"
                else:  # replies, and quotes (Telegram has none)
                    m["reply_to_message_id"] = int(msg_id[r])
            text = _telegram_text(data.text[i], men, tags, acc)
            m["text"] = text[0] if len(text) == 1 and isinstance(text[0], str) else text
            m["text_entities"] = [
                {"type": "plain", "text": t} if isinstance(t, str) else t for t in text
            ]
            ids[data.id[i]] = f"{CHAT_ID}/{int(msg_id[i])}"
            out.write(_indent(m) + (",\n" if start + 5000 < n or i != chunk[-1] else "\n"))
    out.write(" ]\n}\n")
    _atomic(path, out.getvalue().encode("utf-8"))
    return ids


def _indent(obj: dict[str, Any]) -> str:
    """One message laid out as Telegram Desktop does (one space per level, inside the array)."""
    import json

    text = json.dumps(obj, ensure_ascii=False, indent=1)
    return "\n".join("  " + line for line in text.split("\n"))


def _accounts_csv(src: Path, dst: Path, key: Callable[[int], str], index: dict[str, int]) -> None:
    from .synth.twitter import _atomic

    rows = list(csv.reader(io.StringIO(src.read_text(encoding="utf-8"))))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(rows[0])
    for row in rows[1:]:
        w.writerow([key(index[row[0]]), *row[1:]])
    _atomic(dst, buf.getvalue().encode("utf-8"))


def _study(
    base: str, name: str, focal: str, institution: str, inputs: list[str], extra: dict
) -> str:
    """The Twitter study text with its name, sides and inputs replaced."""
    text = re.sub(r'(?m)^name = "([^"]*)"$', f'name = "\\1-{name}"', base, count=1)
    text = re.sub(r"(?m)^focal = \[.*\]$", f'focal = ["{focal}"]', text, count=1)
    text = re.sub(r"(?m)^institution = \[.*\]$", f'institution = ["{institution}"]', text, count=1)
    for key, value in extra.items():
        if value is None:
            text = re.sub(rf"(?m)^{key} = .*\n", "", text, count=1)
        else:
            text = re.sub(rf"(?m)^{key} = .*$", f'{key} = "{value}"', text, count=1)
    head, _, rest = text.partition("\n[[inputs]]")
    _, _, tail = rest.partition("\n[communities]")
    blocks = "".join(f'\n[[inputs]]\npath = "{p}"\nformat = "{fmt}"\n' for p, fmt in inputs)
    text = head.rstrip("\n") + "\n" + blocks + "\n[communities]" + tail
    return re.sub(r'(?m)^dir = "([^"]*)"$', f'dir = "\\1-{name}"', text, count=1)


def write_platforms(case: Any, out: Path, study_text: str) -> list[str]:
    """Write the Mastodon and Telegram files of ``case`` into ``out``; return their names."""
    from .synth import FOCAL, INSTITUTION
    from .synth.twitter import _atomic, _JsonlPages, _TweetData
    from .textsafe import write_csv

    acc = _Accounts(case)
    index = {h: a for a, h in enumerate(case.handles)}
    n = len(case.posts["id"])
    _write_statuses(case, acc, out / MASTODON_NAME, np.ones(n, dtype=bool))
    tg_ids = _write_telegram(case, acc, out / TELEGRAM_NAME)
    _accounts_csv(out / "accounts.csv", out / "accounts-mastodon.csv", acc.mastodon_key, index)
    _accounts_csv(out / "accounts.csv", out / "accounts-telegram.csv", acc.telegram_key, index)
    import pandas as pd

    labels = pd.read_csv(out / "labels.csv", dtype=str, keep_default_na=False)
    labels["post_id"] = labels["post_id"].map(tg_ids)
    write_csv(labels, out / "labels-telegram.csv")

    # cross-platform: each post on one platform (a seeded coin), one account map for both
    coin = np.random.default_rng([case.config.seed, 16]).random(n) < 0.5
    pages = _JsonlPages(case, _TweetData(case))
    pages.order = np.flatnonzero(~coin)[::-1]
    pages.n_pages = (len(pages.order) + 99) // 100
    buf = io.BytesIO()
    pages.write(0, pages.n_pages, buf)
    _atomic(out / CROSS_TWEETS_NAME, buf.getvalue())
    _write_statuses(case, acc, out / CROSS_MASTODON_NAME, coin)
    mbuf = io.StringIO()
    w = csv.writer(mbuf, lineterminator="\n")
    w.writerow(["platform", "handle", "person"])
    for a in sorted(range(len(case.handles)), key=lambda x: case.handles[x]):
        h = case.handles[a]
        w.writerow(["twitter", h, h])
        w.writerow(["mastodon", f"{h}@{acc.host[a]}", h])
    _atomic(out / ACCOUNT_MAP_NAME, mbuf.getvalue().encode("utf-8"))

    f, i = index[FOCAL], index[INSTITUTION]
    # Telegram exports name senders by id, texts name accounts by @username: the researcher
    # links the two sides' ids to their usernames (known from their public profiles)
    tbuf = io.StringIO()
    w = csv.writer(tbuf, lineterminator="\n")
    w.writerow(["platform", "handle", "person"])
    for a in (f, i):
        w.writerow(["telegram", case.handles[a], case.handles[a]])
        w.writerow(["telegram", f"user{acc.uid[a]}", case.handles[a]])
    _atomic(out / "account-map-telegram.csv", tbuf.getvalue().encode("utf-8"))
    studies = {
        "mastodon": _study(
            study_text,
            "mastodon",
            acc.mastodon_key(f),
            acc.mastodon_key(i),
            [(MASTODON_NAME, "mastodon")],
            {"accounts": "accounts-mastodon.csv"},
        ),
        "telegram": _study(
            study_text,
            "telegram",
            qualify(PLATFORM_TELEGRAM, FOCAL),
            qualify(PLATFORM_TELEGRAM, INSTITUTION),
            [(TELEGRAM_NAME, "telegram")],
            {"accounts": "accounts-telegram.csv", "labels": "labels-telegram.csv"},
        ).replace(
            'accounts = "accounts-telegram.csv"',
            'accounts = "accounts-telegram.csv"\naccount_map = "account-map-telegram.csv"',
            1,
        ),
        "cross": _study(
            study_text,
            "cross",
            FOCAL,
            INSTITUTION,
            [(CROSS_TWEETS_NAME, "twitter-v2"), (CROSS_MASTODON_NAME, "mastodon")],
            {"accounts": "accounts.csv"},
        ).replace(
            'accounts = "accounts.csv"',
            f'accounts = "accounts.csv"\naccount_map = "{ACCOUNT_MAP_NAME}"',
            1,
        ),
    }
    for name, text in studies.items():
        _atomic(out / f"study-{name}.toml", text.encode("utf-8"))
    return list(PLATFORM_FILES)

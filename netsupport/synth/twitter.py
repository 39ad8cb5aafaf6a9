"""Writers of the synthetic case in the Twitter-shaped import formats (twarc2 JSONL, the
personal archive, NodeXL edges, follower lists, the accounts CSV)."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from ..schema import AccountCol
from .config import _K_QUOTE, _K_REPLY, _K_REPOST, _ZIP_TIME, FOCAL, Case
from .texts import _Entities

# ------------------------------------------------------------------------------------------------
# Writers: one per import format
# ------------------------------------------------------------------------------------------------

JSONL_NAME = "tweets.jsonl"
ARCHIVE_NAME = "twitter-archive-inspector_lane.zip"
NODEXL_NAME = "nodexl-standwithlane.csv"
FOCAL_FOLLOWERS_NAME = "followers-inspector_lane.txt"
INSTITUTION_FOLLOWERS_NAME = "followers-northshire_police.txt"
ACCOUNTS_NAME = "accounts.csv"
PAGE_SIZE = 100  # tweets per twarc2 response page (max_results)
_REF_TYPE = {_K_REPLY: "replied_to", _K_REPOST: "retweeted", _K_QUOTE: "quoted"}
_SOURCES = (
    '<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
    '<a href="http://twitter.com/download/android" rel="nofollow">Twitter for Android</a>',
    '<a href="https://twitter.com" rel="nofollow">Twitter Web Client</a>',
)


class _TweetData:
    """Per-post strings for the writers (ids, times), made for one batch of posts at a time.

    Building them for every post at once costs ~200 bytes a post (2 GB at 10^7 posts); the
    writers call :meth:`load` with the posts of a few pages and the posts they refer to.
    """

    def __init__(self, case: Case):
        p = case.posts
        self.case = case
        self.text = p["text"]
        self.uid = case.account_ids.astype(str).tolist()
        self.handles = case.handles
        self.ent: _Entities = p["entities"]
        self._users: dict[int, dict[str, Any]] = {}
        self._cols = (p["id"], p["ts"], p["author"], p["ref"], p["kind"], p["lang"])
        self.id: dict[int, str] = {}
        self.iso: dict[int, str] = {}
        self.author: dict[int, int] = {}
        self.ref: dict[int, int] = {}
        self.kind: dict[int, int] = {}
        self.lang: dict[int, str] = {}

    def load(self, idx: np.ndarray) -> None:
        """Make posts ``idx`` and the posts they refer to available (replaces the last batch)."""
        ids, ts, author, ref, kind, lang = self._cols
        idx = np.asarray(idx, dtype=np.int64)
        refs = ref[idx]
        idx = np.unique(np.concatenate([idx, refs[refs >= 0]]))
        keys = idx.tolist()
        secs = ts[idx].astype("datetime64[s]")
        self.id = dict(zip(keys, ids[idx].astype(str).tolist(), strict=True))
        self.iso = dict(
            zip(
                keys,
                [t + ".000Z" for t in np.datetime_as_string(secs, unit="s").tolist()],
                strict=True,
            )
        )
        self.author = dict(zip(keys, author[idx].tolist(), strict=True))
        self.ref = dict(zip(keys, ref[idx].tolist(), strict=True))
        self.kind = dict(zip(keys, kind[idx].tolist(), strict=True))
        self.lang = dict(zip(keys, lang[idx].tolist(), strict=True))

    def v2(self, i: int) -> dict[str, Any]:
        """Return post i as a Twitter API v2 tweet object."""
        d: dict[str, Any] = {
            "author_id": self.uid[self.author[i]],
            "conversation_id": self.id[i],
            "created_at": self.iso[i],
            "edit_history_tweet_ids": [self.id[i]],
            "id": self.id[i],
            "lang": self.lang[i],
            "text": self.text[i],
        }
        ent: dict[str, Any] = {}
        men, tags, urls = self.ent.of(i)
        if men:
            ent["mentions"] = [
                {"end": e, "id": self.uid[a], "start": s, "username": self.handles[a]}
                for s, e, a in men
            ]
        if tags:
            ent["hashtags"] = [{"end": e, "start": s, "tag": t} for s, e, t in tags]
        if urls:
            ent["urls"] = [self._url(i, s, e, u) for s, e, u in urls]
        if ent:
            d["entities"] = ent
        r = self.ref[i]
        if r >= 0:
            k = self.kind[i]
            d["referenced_tweets"] = [{"id": self.id[r], "type": _REF_TYPE[k]}]
            if k == _K_REPLY:
                d["in_reply_to_user_id"] = self.uid[self.author[r]]
                d["conversation_id"] = self.id[r]
        return d

    def _url(self, i: int, s: int, e: int, url: str) -> dict[str, Any]:
        r = self.ref[i]
        if self.kind[i] == _K_QUOTE and r >= 0:
            expanded = f"https://twitter.com/{self.handles[self.author[r]]}/status/{self.id[r]}"
        else:
            expanded = "https://example.org/northshire/" + url.rsplit("/", 1)[-1]
        return {
            "display_url": expanded.split("://", 1)[1][:26] + "\u2026",
            "end": e,
            "expanded_url": expanded,
            "start": s,
            "url": url,
        }

    def user(self, a: int) -> dict[str, Any]:
        u = self._users.get(a)
        if u is None:
            u = {"id": self.uid[a], "name": self.case.names[a], "username": self.handles[a]}
            self._users[a] = u
        return u


class _JsonlPages:
    """twarc2 output: one raw API v2 response page per line, newest tweets first."""

    def __init__(self, case: Case, data: _TweetData):
        self.case, self.data = case, data
        self.order = np.flatnonzero(case.posts["in_jsonl"])[::-1]
        self.n_pages = (len(self.order) + PAGE_SIZE - 1) // PAGE_SIZE
        start = case.windows.baseline_start.strftime("%Y-%m-%dT%H:%M:%SZ")
        end = case.windows.after_end.strftime("%Y-%m-%dT%H:%M:%SZ")
        url = (
            "https://api.twitter.com/2/tweets/search/all?query=%40inspector_lane%20OR%20"
            f"%40northshire_police%20OR%20%23standwithlane&start_time={start}&end_time={end}"
            "&max_results=100"
        )
        self.twarc = {"retrieved_at": "2023-03-01T12:00:00+00:00", "url": url, "version": "2.14.0"}
        self._cache: dict[int, dict[str, Any]] = {}

    def _included(self, r: int) -> dict[str, Any]:
        """A referenced tweet for ``includes.tweets`` (popular originals recur: cached)."""
        d = self._cache.get(r)
        if d is None:
            if len(self._cache) >= 100_000:
                self._cache.clear()
            d = self._cache[r] = self.data.v2(r)
        return d

    def write(self, first: int, last: int, fh: Any) -> None:
        """Write pages ``first`` to ``last - 1`` to the binary file ``fh``."""
        data, seed = self.data, self.case.config.seed
        for k in range(first, last):
            if (k - first) % 50 == 0:  # strings for the next 50 pages and what they refer to
                data.load(self.order[k * PAGE_SIZE : min(k + 50, last) * PAGE_SIZE])
            page = self.order[k * PAGE_SIZE : (k + 1) * PAGE_SIZE].tolist()
            users: dict[int, None] = {}
            refs: dict[int, None] = {}
            for i in page:
                users[data.author[i]] = None
                for _, _, a in data.ent.mentions(i):
                    users[a] = None
                r = data.ref[i]
                if r >= 0:
                    refs[r] = None
                    users[data.author[r]] = None
            meta: dict[str, Any] = {
                "newest_id": data.id[page[0]],
                "oldest_id": data.id[page[-1]],
                "result_count": len(page),
            }
            if k + 1 < self.n_pages:
                meta["next_token"] = hashlib.sha1(f"{seed}:{k}".encode()).hexdigest()[:24]
            doc = {
                "__twarc": self.twarc,
                "data": [data.v2(i) for i in page],
                "includes": {
                    "tweets": [self._included(r) for r in refs],
                    "users": [data.user(a) for a in users],
                },
                "meta": meta,
            }
            fh.write(orjson.dumps(doc, option=orjson.OPT_SORT_KEYS))
            fh.write(b"\n")


def _write_jsonl(case: Case, data: _TweetData, path: Path) -> None:
    """Write the JSONL pages to a temporary file, then move it into place.

    One process: on this shared 2-core machine two forked writers took 30.5 s for 10^6 posts
    against 16.6 s for one (copy-on-write and contention), so the simpler path stays.
    """
    pages = _JsonlPages(case, data)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        pages.write(0, pages.n_pages, fh)
    os.replace(tmp, path)


def _js(variable: str, items: list[Any]) -> bytes:
    """A personal-archive data file: ``window.YTD.<name>.partN = [...]`` (spacing as Twitter's)."""
    import json

    body = json.dumps(items, indent=2, ensure_ascii=False, separators=(",", " : "))
    return f"{variable} = {body}".encode()


def _archive_tweet(case: Case, data: _TweetData, i: int) -> dict[str, Any]:
    """Post i as the v1.1-like object of a personal archive's tweets.js (numbers as strings)."""
    p = case.posts
    ts = np.datetime64(int(p["ts"][i]), "s").astype(object)
    created = ts.strftime("%a %b %d %H:%M:%S +0000 %Y")
    text = data.text[i]
    t: dict[str, Any] = {
        "retweeted": False,
        "source": _SOURCES[int(p["id"][i] >> 22) % len(_SOURCES)],
        "entities": {
            "hashtags": [
                {"text": tag, "indices": [str(s), str(e)]} for s, e, tag in data.ent.hashtags(i)
            ],
            "symbols": [],
            "user_mentions": [
                {
                    "name": case.names[a],
                    "screen_name": case.handles[a],
                    "indices": [str(s), str(e)],
                    "id_str": data.uid[a],
                    "id": data.uid[a],
                }
                for s, e, a in data.ent.mentions(i)
            ],
            "urls": [
                {
                    "url": u["url"],
                    "expanded_url": u["expanded_url"],
                    "display_url": u["display_url"],
                    "indices": [str(u["start"]), str(u["end"])],
                }
                for u in (data._url(i, s, e, url) for s, e, url in data.ent.urls(i))
            ],
        },
        "display_text_range": ["0", str(len(text))],
        "favorite_count": "0",
        "id_str": data.id[i],
        "truncated": False,
        "retweet_count": "0",
        "id": data.id[i],
        "created_at": created,
        "favorited": False,
        "full_text": text,
        "lang": data.lang[i],
    }
    r = data.ref[i]
    if r >= 0 and data.kind[i] == _K_REPLY:
        a = data.author[r]
        t["in_reply_to_status_id_str"] = data.id[r]
        t["in_reply_to_status_id"] = data.id[r]
        t["in_reply_to_user_id"] = data.uid[a]
        t["in_reply_to_user_id_str"] = data.uid[a]
        t["in_reply_to_screen_name"] = case.handles[a]
    return {"tweet": t}


def _zip_member(zf: zipfile.ZipFile, name: str, payload: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    info.create_system = 3
    zf.writestr(info, payload, compresslevel=9)


def _write_archive(case: Case, data: _TweetData, path: Path) -> None:
    """The focal account's personal archive: tweets in two parts, followers, following, account."""
    p = case.posts
    mine = np.flatnonzero(p["in_archive"])[::-1]  # newest first, as Twitter writes it
    data.load(mine)
    tweets = [_archive_tweet(case, data, int(i)) for i in mine]
    half = (len(tweets) + 1) // 2
    uid = data.uid

    def links(kind: str, accounts: np.ndarray) -> list[dict[str, Any]]:
        ids = sorted(int(uid[a]) for a in accounts)
        return [
            {
                kind: {
                    "accountId": str(x),
                    "userLink": f"https://twitter.com/intent/user?user_id={x}",
                }
            }
            for x in ids
        ]

    account = [
        {
            "account": {
                "email": "inspector.lane@example.org",
                "createdVia": "web",
                "username": FOCAL,
                "accountId": uid[0],
                "createdAt": "2010-05-03T18:21:42.000Z",
                "accountDisplayName": case.names[0],
            }
        }
    ]
    members = [
        ("data/account.js", _js("window.YTD.account.part0", account)),
        (
            "data/follower.js",
            _js("window.YTD.follower.part0", links("follower", case.focal_followers)),
        ),
        (
            "data/following.js",
            _js("window.YTD.following.part0", links("following", case.focal_following)),
        ),
        ("data/tweets.js", _js("window.YTD.tweets.part0", tweets[:half])),
        ("data/tweets-part1.js", _js("window.YTD.tweets.part1", tweets[half:])),
        (
            "Your archive.html",
            b'<!DOCTYPE html><html><head><meta charset="utf-8"><title>Your archive</title>'
            b"</head><body><p>Synthetic archive of @inspector_lane (netsupport synth).</p>"
            b"</body></html>\n",
        ),
    ]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, payload in members:
            _zip_member(zf, name, payload)
    _atomic(path, buf.getvalue())


_NODEXL_COLUMNS = [
    "Vertex 1",
    "Vertex 2",
    "Color",
    "Width",
    "Style",
    "Opacity",
    "Visibility",
    "Label",
    "Relationship",
    "Relationship Date (UTC)",
    "Tweet",
    "URLs in Tweet",
    "Domains in Tweet",
    "Hashtags in Tweet",
    "Tweet Date (UTC)",
    "Twitter Page for Tweet",
    "Imported ID",
    "In-Reply-To Tweet ID",
    "In-Reply-To User ID",
    "Language",
    "Quoted Status ID",
    "Retweet ID",
]


def _write_nodexl(case: Case, data: _TweetData, path: Path) -> None:
    """A NodeXL Twitter search network (edges worksheet saved as CSV) for #standwithlane."""
    p = case.posts
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(_NODEXL_COLUMNS)
    subset = np.flatnonzero(p["in_nodexl"])
    data.load(subset)
    for i in subset.tolist():
        a = data.author[i]
        me = case.handles[a]
        when = data.iso[i][:19].replace("T", " ")
        r, k = data.ref[i], data.kind[i]
        mentioned = [case.handles[x] for _, _, x in data.ent.mentions(i)]
        edges: list[tuple[str, str]] = []
        target = case.handles[data.author[r]] if r >= 0 else None
        if k == _K_REPOST:
            edges.append((target, "Retweet"))
        elif k == _K_REPLY:
            edges.append((target, "Replies to"))
        for h in dict.fromkeys(mentioned):
            if h != me and not (h == target and k in (_K_REPOST, _K_REPLY)):
                edges.append((h, "Mentions"))
        if not edges:
            edges.append((me, "Tweet"))
        urls = [u for _, _, u in data.ent.urls(i)]
        tags = " ".join(t.lower() for _, _, t in data.ent.hashtags(i))
        for other, rel in edges:
            w.writerow(
                [
                    me,
                    other,
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                    rel,
                    when,
                    data.text[i],
                    " ".join(urls),
                    " ".join("t.co" for _ in urls),
                    tags,
                    when,
                    f"https://twitter.com/{me}/status/{data.id[i]}",
                    data.id[i],
                    data.id[r] if r >= 0 and k == _K_REPLY else "",
                    data.uid[data.author[r]] if r >= 0 and k == _K_REPLY else "",
                    data.lang[i],
                    data.id[r] if r >= 0 and k == _K_QUOTE else "",
                    data.id[r] if r >= 0 and k == _K_REPOST else "",
                ]
            )
    _atomic(path, buf.getvalue().encode("utf-8"))


def _atomic(path: Path, payload: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(payload)
    os.replace(tmp, path)


def _write_followers(case: Case, accounts: np.ndarray, path: Path) -> None:
    handles = sorted(case.handles[a] for a in accounts)
    _atomic(path, ("\n".join(handles) + "\n").encode("utf-8"))


def _write_accounts(case: Case, path: Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = [
        AccountCol.HANDLE,
        AccountCol.ACCOUNT_ID,
        AccountCol.NAME,
        AccountCol.DESCRIPTION,
        AccountCol.FOLLOWERS_COUNT,
        AccountCol.ROLE,
    ]
    w.writerow([c.value for c in cols])
    for a in sorted(range(len(case.handles)), key=lambda x: case.handles[x]):
        w.writerow(
            [
                case.handles[a],
                int(case.account_ids[a]),
                case.names[a],
                case.bios[a],
                int(case.followers_count[a]),
                case.roles[a],
            ]
        )
    _atomic(path, buf.getvalue().encode("utf-8"))

"""The synthetic case written as Bluesky and Reddit files, each with a ready-to-run study.

``netsupport synth --platforms`` (:func:`netsupport.synth.write_case` with ``platforms=True``)
calls :func:`write_platforms`, which writes, beside the Twitter files (and the Mastodon and
Telegram ones of :mod:`netsupport.synth_platforms`), the same case as

* **Bluesky**: ``bluesky-jetstream.ndjson`` (Jetstream events: one ``identity`` event per
  account, then every post, reply, quote and repost as a commit in time order, and a follow of
  the focal account and of the institution by each of their followers, dated 30 days before the
  baseline so that no window counts them), ``bluesky-accounts.csv`` (roles), ``labels-bluesky.csv``
  and ``study-bluesky.toml``. Every post maps one to one (a repost is an ``app.bsky.feed.repost``
  record, a quote an ``app.bsky.embed.record``, mentions and hashtags facets), so the planted
  truth in ``truth.json`` holds for it as for the Twitter files.
* **Reddit**: ``northshire_submissions.zst`` and ``northshire_comments.zst`` (Pushshift shape,
  zstd): posts are submissions; replies and quotes are comments whose ``parent_id`` is their
  target (a reply to a retweet replies to the retweeted post); ``@name`` in a text becomes
  ``u/name``. Reddit has no reposts: they are not written, so the stance truth, which counts
  reposts as endorsement, does not carry over; the reply graph does, exactly. Also
  ``reddit-accounts.csv``, ``labels-reddit.csv`` and ``study-reddit.toml``.

Account keys: ``bluesky:did:plc:<base32 of the account id>`` and ``reddit:<handle>``. The study
files name the focal account and the institution by key alone, one account each: the stance
rules find a Reddit key in texts by its name, a Bluesky DID by the handle its ``identity`` event
gives (``inspector_lane.bsky.social``, written ``@inspector_lane`` in the synthetic texts, which
the rules read as that handle's first label; :func:`netsupport.io.platforms.in_text`). They
named each side twice before, by key and by ``inspector_lane``: a Twitter key, which the report
showed as a second account.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import zstandard

if TYPE_CHECKING:
    from .synth import Case

__all__ = [
    "BLUESKY_FILES",
    "DELETE_EVERY",
    "REDDIT_FILES",
    "bluesky_did",
    "bluesky_post_uri",
    "reddit_post_id",
    "write_platforms",
]

JETSTREAM_NAME = "bluesky-jetstream.ndjson"
SUBMISSIONS_NAME = "northshire_submissions.zst"
COMMENTS_NAME = "northshire_comments.zst"
BLUESKY_FILES = (JETSTREAM_NAME, "bluesky-accounts.csv", "labels-bluesky.csv", "study-bluesky.toml")
REDDIT_FILES = (
    SUBMISSIONS_NAME,
    COMMENTS_NAME,
    "reddit-accounts.csv",
    "labels-reddit.csv",
    "study-reddit.toml",
)
_K_POST, _K_REPLY, _K_REPOST, _K_QUOTE = 0, 1, 2, 3
_CHUNK = 50_000
#: Every post whose synthetic id is a multiple of this is deleted by its author a day after it
#: was posted: a delete event at the end of the Jetstream file (they mark, they do not remove).
DELETE_EVERY = 97
_AT_HANDLE = re.compile(r"(?<![\w@])@(\w{1,50})")


def bluesky_did(account_id: int) -> str:
    """Return the synthetic DID of an account (base32 of its id, as did:plc identifiers look).

    Examples
    --------
    >>> bluesky_did(1)
    'did:plc:aaaaaaaaaaaaaaaaaaaaaaab'
    """
    return "did:plc:" + base64.b32encode(int(account_id).to_bytes(15, "big")).decode().lower()


def bluesky_post_uri(did: str, post_id: int, kind: int) -> str:
    """Return the ``at://`` URI of a synthetic post (a repost record for reposts)."""
    collection = "app.bsky.feed.repost" if kind == _K_REPOST else "app.bsky.feed.post"
    return f"at://{did}/{collection}/3l{int(post_id):013x}"


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


def reddit_post_id(post_id: int, kind: int) -> str:
    """Return the Reddit full name of a synthetic post (``t3_`` a submission, ``t1_`` a comment)."""
    return ("t3_" if kind == _K_POST else "t1_") + _base36(int(post_id))


def _iso(ts: int) -> str:
    return np.datetime_as_string(np.datetime64(int(ts), "s"), unit="s") + ".000Z"


def write_platforms(
    case: Case, out: Path, platforms: tuple[str, ...] = ("bluesky", "reddit")
) -> tuple[str, ...]:
    """Write the Bluesky and/or Reddit versions of ``case`` into ``out``; return the file names."""
    from .synth import FOCAL, INSTITUTION

    focal, inst = case.handles.index(FOCAL), case.handles.index(INSTITUTION)
    names: tuple[str, ...] = ()
    if "bluesky" in platforms:
        _write_jetstream(case, out / JETSTREAM_NAME)
        keys = [f"bluesky:{bluesky_did(i)}" for i in case.account_ids.tolist()]
        _write_accounts(case, keys, out / "bluesky-accounts.csv")
        _write_labels(case, out / "labels.csv", out / "labels-bluesky.csv", "bluesky")
        text = _study_toml(case, "bluesky", keys[focal], keys[inst], [(JETSTREAM_NAME, "bluesky")])
        (out / "study-bluesky.toml").write_bytes(text.encode("utf-8"))
        names += BLUESKY_FILES
    if "reddit" in platforms:
        _write_reddit(case, out / SUBMISSIONS_NAME, out / COMMENTS_NAME)
        keys = [f"reddit:{h.lower()}" for h in case.handles]
        _write_accounts(case, keys, out / "reddit-accounts.csv")
        _write_labels(case, out / "labels.csv", out / "labels-reddit.csv", "reddit")
        inputs = [(COMMENTS_NAME, "reddit"), (SUBMISSIONS_NAME, "reddit")]
        text = _study_toml(case, "reddit", keys[focal], keys[inst], inputs)
        (out / "study-reddit.toml").write_bytes(text.encode("utf-8"))
        names += REDDIT_FILES
    return names


def _posts(case: Case):
    """Yield, chunk by chunk, the arrays of the case's posts the writers need."""
    p = case.posts
    n = len(p["id"])
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        yield range(lo, hi), p


def _write_jetstream(case: Case, path: Path) -> None:
    from .synth import FOCAL, INSTITUTION

    p = case.posts
    ids, ts, author, ref, kind, lang = (
        p["id"],
        p["ts"],
        p["author"],
        p["ref"],
        p["kind"],
        p["lang"],
    )
    ent = p["entities"]
    dids = [bluesky_did(i) for i in case.account_ids.tolist()]
    start = int(case.windows.baseline_start.timestamp())
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        t0 = int(ts.min()) - 31 * 86400 if len(ts) else 0
        for a, handle in enumerate(case.handles):  # who is who, before anything happens
            fh.write(
                orjson.dumps(
                    {
                        "did": dids[a],
                        "time_us": t0 * 1_000_000,
                        "kind": "identity",
                        "identity": {
                            "did": dids[a],
                            "handle": f"{handle.lower()}.bsky.social",
                            "seq": a + 1,
                            "time": _iso(t0),
                        },
                    }
                )
                + b"\n"
            )
        t_follow = min(start, int(ts.min()) if len(ts) else start) - 30 * 86400
        for target_name, followers in (
            (FOCAL, case.focal_followers),
            (INSTITUTION, case.institution_followers),
        ):
            target = case.handles.index(target_name)
            for a in sorted(followers.tolist()):
                rec = {
                    "$type": "app.bsky.graph.follow",
                    "createdAt": _iso(t_follow),
                    "subject": dids[target],
                }
                fh.write(
                    orjson.dumps(
                        _commit(dids[a], t_follow, "app.bsky.graph.follow", f"3f{target:x}", rec)
                    )
                    + b"\n"
                )
        deletes: list[tuple[str, int, str, str]] = []
        for rows, _ in _posts(case):
            lines = []
            for i in rows:
                a, k, r = int(author[i]), int(kind[i]), int(ref[i])
                did = dids[a]
                uri = bluesky_post_uri(did, ids[i], k)
                rkey = uri.rsplit("/", 1)[1]
                created = _iso(int(ts[i]))
                target_uri = (
                    bluesky_post_uri(dids[int(author[r])], ids[r], int(kind[r])) if r >= 0 else None
                )
                if k == _K_REPOST and target_uri is not None:
                    rec = {
                        "$type": "app.bsky.feed.repost",
                        "createdAt": created,
                        "subject": {"cid": "bafyreisynth", "uri": target_uri},
                    }
                    collection = "app.bsky.feed.repost"
                else:
                    rec = {
                        "$type": "app.bsky.feed.post",
                        "createdAt": created,
                        "langs": [str(lang[i])] if lang[i] else [],
                        "text": case.posts["text"][i],
                    }
                    if k == _K_REPLY and target_uri is not None:
                        ref_ = {"cid": "bafyreisynth", "uri": target_uri}
                        rec["reply"] = {"parent": ref_, "root": ref_}
                    elif k == _K_QUOTE and target_uri is not None:
                        rec["embed"] = {
                            "$type": "app.bsky.embed.record",
                            "record": {"cid": "bafyreisynth", "uri": target_uri},
                        }
                    facets = _facets(ent, i, dids)
                    if facets:
                        rec["facets"] = facets
                    collection = "app.bsky.feed.post"
                lines.append(orjson.dumps(_commit(did, int(ts[i]), collection, rkey, rec)) + b"\n")
                if int(ids[i]) % DELETE_EVERY == 0:
                    deletes.append((did, int(ts[i]) + 86400, collection, rkey))
            fh.write(b"".join(lines))
        for did, t, collection, rkey in deletes:
            event = _commit(did, t, collection, rkey, {})
            del event["commit"]["record"], event["commit"]["cid"]
            event["commit"]["operation"] = "delete"
            fh.write(orjson.dumps(event) + b"\n")
    tmp.replace(path)


def _facets(ent, i: int, dids: list[str]) -> list[dict[str, Any]]:
    men, tags, _ = ent.of(i)
    out = []
    for s, e, a in men:
        out.append(
            {
                "index": {"byteStart": s, "byteEnd": e},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": dids[a]}],
            }
        )
    for s, e, tag in tags:
        out.append(
            {
                "index": {"byteStart": s, "byteEnd": e},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
            }
        )
    return out


def _commit(did: str, ts: int, collection: str, rkey: str, record: dict) -> dict[str, Any]:
    return {
        "did": did,
        "time_us": ts * 1_000_000,
        "kind": "commit",
        "commit": {
            "rev": "3l" + rkey[-11:],
            "operation": "create",
            "collection": collection,
            "rkey": rkey,
            "record": record,
            "cid": "bafyreisynth",
        },
    }


def _write_reddit(case: Case, submissions: Path, comments: Path) -> None:
    p = case.posts
    ids, ts, author, ref, kind = p["id"], p["ts"], p["author"], p["ref"], p["kind"]
    texts = p["text"]
    handles = case.handles
    fullname = [f"t2_{_base36(int(i))}" for i in case.account_ids.tolist()]
    cctx = zstandard.ZstdCompressor(level=3)
    with (
        open(submissions.with_suffix(".tmp"), "wb") as fs,
        open(comments.with_suffix(".tmp"), "wb") as fc,
        cctx.stream_writer(fs) as ws,
        zstandard.ZstdCompressor(level=3).stream_writer(fc) as wc,
    ):
        for rows, _ in _posts(case):
            subs, coms = [], []
            for i in rows:
                k = int(kind[i])
                if k == _K_REPOST:
                    continue  # (Reddit has no reposts)
                a = int(author[i])
                text = _AT_HANDLE.sub(r"u/\1", texts[i])
                base = {
                    "author": handles[a],
                    "author_fullname": fullname[a],
                    "created_utc": int(ts[i]),
                    "id": _base36(int(ids[i])),
                    "subreddit": "northshire",
                    "subreddit_id": "t5_2qh1i",
                }
                r = int(ref[i])
                if k == _K_POST or r < 0:
                    base.update({"title": text, "selftext": "", "num_comments": 0})
                    subs.append(orjson.dumps(base) + b"\n")
                    continue
                if int(kind[r]) == _K_REPOST and int(ref[r]) >= 0:
                    r = int(ref[r])  # a reply to a retweet replies to the retweeted post
                parent = reddit_post_id(ids[r], _K_POST if int(ref[r]) < 0 else _K_REPLY)
                base.update({"body": text, "parent_id": parent, "link_id": parent})
                coms.append(orjson.dumps(base) + b"\n")
            ws.write(b"".join(subs))
            wc.write(b"".join(coms))
    submissions.with_suffix(".tmp").replace(submissions)
    comments.with_suffix(".tmp").replace(comments)


def _write_accounts(case: Case, keys: list[str], path: Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["handle", "account_id", "name", "description", "followers_count", "role"])
    for a in sorted(range(len(keys)), key=lambda x: keys[x]):
        w.writerow(
            [
                keys[a],
                int(case.account_ids[a]),
                case.names[a],
                case.bios[a],
                int(case.followers_count[a]),
                case.roles[a],
            ]
        )
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _write_labels(case: Case, twitter: Path, path: Path, platform: str) -> None:
    """The hand codes of labels.csv with each post id translated (reposts dropped on Reddit)."""
    import pandas as pd

    labels = pd.read_csv(twitter, dtype=str, keep_default_na=False)
    p = case.posts
    index = {str(pid): i for i, pid in enumerate(p["id"].tolist())}
    dids = None
    new_ids = []
    for pid in labels["post_id"]:
        i = index[pid]
        k, r = int(p["kind"][i]), int(p["ref"][i])
        if platform == "bluesky":
            if dids is None:
                dids = {}
            a = int(p["author"][i])
            did = dids.setdefault(a, bluesky_did(int(case.account_ids[a])))
            new_ids.append(bluesky_post_uri(did, p["id"][i], k))
        elif k == _K_REPOST:
            new_ids.append(None)
        else:
            new_ids.append(reddit_post_id(p["id"][i], _K_POST if k == _K_POST or r < 0 else 1))
    labels["post_id"] = new_ids
    labels = labels[labels["post_id"].notna()]
    labels.to_csv(path, index=False, lineterminator="\n")


def _study_toml(
    case: Case, platform: str, focal: str, inst: str, inputs: list[tuple[str, str]]
) -> str:
    from .synth import MARKER

    cfg = case.config
    w = case.windows.as_dict()
    report_dir = (cfg.report_dir or f"reports/{cfg.name}") + f"-{platform}"
    lines = [
        f"# The synthetic case as {platform.capitalize()} files (netsupport synth; fictional).",
        "# Accounts by key: the stance rules find them in texts by the handle the store gives.",
        "",
        "[study]",
        f'name = "{cfg.name}-{platform}"',
        f'focal = ["{focal}"]',
        f'institution = ["{inst}"]',
        f'markers = ["#{MARKER}"]',
        f'accounts = "{platform}-accounts.csv"',
        "",
        "[windows]",
        f'crisis_start = "{w["crisis_start"]}"',
        f'crisis_end = "{w["crisis_end"]}"',
        f"baseline_days = {cfg.days}",
        f"after_days = {cfg.days}",
    ]
    for path, fmt in inputs:
        lines += ["", "[[inputs]]", f'path = "{path}"', f'format = "{fmt}"']
    lines += [
        "",
        "[communities]",
        'algorithm = "leiden"',
        "resolution = 1.0",
        "seed = 42",
        "",
        "[stance]",
        'lexicon = "lexicon.toml"',
        f'labels = "labels-{platform}.csv"',
        "",
        "[support]",
        "bootstrap = 1000",
        "seed = 42",
        "",
        "[output]",
        f'dir = "{report_dir}"',
        "",
    ]
    return "\n".join(lines)

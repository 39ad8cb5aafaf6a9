"""Generators and timing for the Mastodon and Telegram rows of bench/import.py.

Each file is generated deterministically (seeded) in the shape the platform writes: Mastodon API
statuses as JSON lines (what Mastodon.py or a collector saves: HTML ``content``, an ``account``
with ``url``, ``mentions``, ``tags``; 20 % replies, 20 % reblogs with the reblogged status
embedded), a Mastodon account archive (zip: ``outbox.json`` with Creates and Announces,
``actor.json``, ``likes.json``), and a Telegram Desktop ``result.json`` of one chat as Telegram
writes it (pretty-printed with one-space indents, list-valued ``text`` with entities, replies,
forwards, 1 % service messages). Each holds a few bad records that must come out as rejects.
"""

from __future__ import annotations

import json
import os
import random
import time
import zipfile
from pathlib import Path

import orjson

GENERATOR_VERSION = 2
BAD = 12
_START = 1_391_212_800  # 2014-02-01T00:00:00Z


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(ts))


def _content(i: int, mentioned: list[tuple[str, str]], tag: str | None) -> str:
    links = "".join(
        f'<span class="h-card"><a href="https://{h}/@{n}" class="u-url mention">@<span>{n}</span>'
        f"</a></span> "
        for n, h in mentioned
    )
    tag_html = (
        f' <a href="https://town.example/tags/{tag}" class="mention hashtag" rel="tag">#<span>'
        f"{tag}</span></a>"
        if tag
        else ""
    )
    return f"<p>{links}words &amp; words {i}{tag_html}</p><p>second line</p>"


def mastodon_statuses(path: Path, n: int, seed: int = 16) -> int:
    """Write ``n`` API statuses (and BAD bad lines) as JSON lines; return the good count."""
    rng = random.Random(seed)
    hosts = ["town.example", "police.social", "news.example", "far.example"]
    users = [(f"user{i}", hosts[i % 4]) for i in range(20_000)]
    bad_at = set(rng.sample(range(n), BAD))
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as fh:
        for i in range(n):
            if i in bad_at:
                fh.write(b'{"id": "broken", "content": "cut off\n')
                continue
            name, host = users[rng.randrange(len(users))]
            mentioned = [users[rng.randrange(len(users))] for _ in range(rng.randrange(3))]
            tag = rng.choice([None, "StandWithLane", "Northshire"])

            def account(name: str, host: str) -> dict:
                return {
                    "id": str(abs(hash((name, host))) % 10**9),
                    "username": name,
                    "acct": name if host == "town.example" else f"{name}@{host}",
                    "display_name": name.title(),
                    "url": f"https://{host}/@{name}",
                    "note": "<p>a bio</p>",
                    "followers_count": 10,
                }

            s = {
                "id": str(100_000_000 + i),
                "created_at": _iso(_START + i),
                "in_reply_to_id": None,
                "in_reply_to_account_id": None,
                "sensitive": False,
                "spoiler_text": "",
                "visibility": "public",
                "language": "en",
                "uri": f"https://{host}/users/{name}/statuses/{100_000_000 + i}",
                "url": f"https://{host}/@{name}/{100_000_000 + i}",
                "replies_count": 0,
                "reblogs_count": 0,
                "favourites_count": 0,
                "content": _content(i, mentioned, tag),
                "reblog": None,
                "account": account(name, host),
                "mentions": [
                    {
                        "id": str(abs(hash(m)) % 10**9),
                        "username": m[0],
                        "acct": m[0] if m[1] == "town.example" else f"{m[0]}@{m[1]}",
                        "url": f"https://{m[1]}/@{m[0]}",
                    }
                    for m in mentioned
                ],
                "tags": [{"name": tag, "url": f"https://town.example/tags/{tag}"}] if tag else [],
            }
            r = rng.random()
            if r < 0.2 and mentioned:
                s["in_reply_to_id"] = str(100_000_000 + max(0, i - 5))
                s["in_reply_to_account_id"] = s["mentions"][0]["id"]
            elif r < 0.4:
                other = users[rng.randrange(len(users))]
                s["reblog"] = {
                    "id": str(90_000_000 + i),
                    "created_at": _iso(_START + i - 60),
                    "content": "<p>original</p>",
                    "account": account(*other),
                    "mentions": [],
                    "tags": [],
                }
                s["content"] = ""
            fh.write(orjson.dumps(s) + b"\n")
    os.replace(tmp, path)
    return n - BAD


def mastodon_archive(path: Path, n: int, seed: int = 17) -> int:
    """Write an archive zip whose outbox holds ``n`` activities (BAD of them bad); return the
    number of good records (posts + likes)."""
    rng = random.Random(seed)
    owner = "https://police.social/users/lane"
    items = []
    bad_at = set(rng.sample(range(n), BAD))
    for i in range(n):
        if i in bad_at:
            items.append({"id": f"{owner}/statuses/{i}/activity", "type": "Create"})
            continue
        other = f"https://town.example/users/user{rng.randrange(5000)}"
        if rng.random() < 0.2:
            items.append(
                {
                    "id": f"{owner}/statuses/{i}/activity",
                    "type": "Announce",
                    "actor": owner,
                    "published": _iso(_START + i),
                    "object": f"{other}/statuses/{i}",
                }
            )
            continue
        note = {
            "id": f"{owner}/statuses/{i}",
            "type": "Note",
            "published": _iso(_START + i),
            "attributedTo": owner,
            "inReplyTo": f"{other}/statuses/{i - 1}" if rng.random() < 0.3 else None,
            "content": _content(i, [(other.rsplit("/", 1)[1], "town.example")], "Northshire"),
            "tag": [{"type": "Mention", "href": other, "name": f"@{other.rsplit('/', 1)[1]}"}],
        }
        items.append(
            {
                "id": f"{owner}/statuses/{i}/activity",
                "type": "Create",
                "actor": owner,
                "published": note["published"],
                "object": note,
            }
        )
    likes = [f"https://town.example/users/user{i % 5000}/statuses/{i}" for i in range(n // 5)]
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "actor.json",
            json.dumps({"type": "Person", "id": owner, "preferredUsername": "lane"}),
        )
        zf.writestr(
            "outbox.json",
            orjson.dumps({"type": "OrderedCollection", "orderedItems": items}),
        )
        zf.writestr(
            "likes.json",
            orjson.dumps({"id": "likes.json", "type": "OrderedCollection", "orderedItems": likes}),
        )
    os.replace(tmp, path)
    return n - BAD + len(likes)


def telegram_export(path: Path, n: int, seed: int = 18) -> int:
    """Write a one-chat ``result.json`` of ``n`` messages as Telegram Desktop lays it out
    (one-space indents); BAD messages lack ``from_id`` and 1 % are service messages. Return
    the number of posts expected."""
    rng = random.Random(seed)
    bad_at = set(rng.sample(range(n), BAD))
    good = 0
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write('{\n "name": "Northshire Watch",\n "type": "public_supergroup",\n')
        fh.write(' "id": 1700000001,\n "messages": [\n')
        for i in range(n):
            ts = _START + i
            msg: dict = {
                "id": i + 1,
                "type": "message",
                "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)),
                "date_unixtime": str(ts),
            }
            if rng.random() < 0.01 and i not in bad_at:
                msg.update(type="service", actor="Amy", actor_id="user1", action="pin_message")
            else:
                u = rng.randrange(20_000)
                msg.update({"from": f"User {u}", "from_id": f"user{u}"})
                if i in bad_at:
                    del msg["from_id"]
                else:
                    good += 1
                r = rng.random()
                if r < 0.25 and i > 0:
                    msg["reply_to_message_id"] = max(1, i - rng.randrange(1, 50))
                elif r < 0.35:
                    msg["forwarded_from"] = "Northshire Police"
                mention = f"@user_{rng.randrange(20_000)}"
                msg["text"] = [
                    f"words {i} ",
                    {"type": "mention", "text": mention},
                    " more words ",
                    {"type": "hashtag", "text": "#StandWithLane"},
                ]
                msg["text_entities"] = [
                    {"type": "plain", "text": f"words {i} "},
                    {"type": "mention", "text": mention},
                    {"type": "plain", "text": " more words "},
                    {"type": "hashtag", "text": "#StandWithLane"},
                ]
            body = json.dumps(msg, ensure_ascii=False, indent=1)
            body = "\n".join("  " + ln for ln in body.split("\n"))
            fh.write(body + (",\n" if i < n - 1 else "\n"))
        fh.write(" ]\n}\n")
    os.replace(tmp, path)
    return good

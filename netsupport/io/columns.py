"""Column builders for readers whose records carry their time as a number (Reddit, Bluesky).

:class:`~netsupport.io.base.PostRows` reads each timestamp from text in one vectorised pass; a
reader that already holds the time as microseconds since the epoch (Reddit's ``created_utc``,
Jetstream's ``time_us``) fills :class:`PostColumns` instead and skips that pass.

Examples
--------
>>> cols = PostColumns("RC_2014-02.zst", "reddit")
>>> cols.add("t1_a", "reddit:amy", None, 1392372000 * 10**6, "hi", "reply", "t3_s", None,
...          None, 3)
>>> t = cols.take()
>>> t.column("created_at")[0].as_py().isoformat(), t.column("source_line").to_pylist()
('2014-02-14T10:00:00+00:00', [3])
"""

from __future__ import annotations

import pyarrow as pa

from ..schema import SCHEMAS, PostCol, Table

__all__ = ["MAX_MICROS", "MIN_MICROS", "PostColumns", "interaction_table"]

#: Times outside [1990, 2100) are unreadable (a number in the wrong unit, most often).
MIN_MICROS = 631_152_000 * 10**6
MAX_MICROS = 4_102_444_800 * 10**6

_SCHEMA = SCHEMAS[Table.POSTS]
_ISCHEMA = SCHEMAS[Table.INTERACTIONS]
_TS = _SCHEMA.field(PostCol.CREATED_AT).type


class PostColumns:
    """Collect posts of one platform column by column; :meth:`take` returns a posts table."""

    __slots__ = (
        "author",
        "author_id",
        "created",
        "hashtags",
        "kind",
        "lang",
        "line",
        "mentions",
        "platform",
        "post_id",
        "source",
        "target_author",
        "target_post_id",
        "text",
    )

    def __init__(self, source: str, platform: str):
        self.source = source
        self.platform = platform
        self._reset()

    def _reset(self) -> None:
        self.post_id: list = []
        self.author: list = []
        self.author_id: list = []
        self.created: list = []
        self.text: list = []
        self.kind: list = []
        self.target_post_id: list = []
        self.target_author: list = []
        self.mentions: list = []
        self.hashtags: list = []
        self.lang: list = []
        self.line: list = []

    def add(
        self,
        post_id: str,
        author: str | None,
        author_id: str | None,
        micros: int,
        text: str | None,
        kind: str,
        target_post_id: str | None,
        target_author: str | None,
        mentions: str | None,
        line: int,
        hashtags: str | None = None,
        lang: str | None = None,
    ) -> None:
        """Append one post (``micros``: its time in microseconds since the epoch, UTC)."""
        self.post_id.append(post_id)
        self.author.append(author)
        self.author_id.append(author_id)
        self.created.append(micros)
        self.text.append(text)
        self.kind.append(kind)
        self.target_post_id.append(target_post_id)
        self.target_author.append(target_author)
        self.mentions.append(mentions)
        self.hashtags.append(hashtags)
        self.lang.append(lang)
        self.line.append(line)

    def __len__(self) -> int:
        return len(self.post_id)

    def take(self) -> pa.Table | None:
        """Return the posts collected so far (None when there are none), and reset."""
        n = len(self.post_id)
        if not n:
            return None
        s = pa.string()
        arrays = [
            pa.repeat(pa.scalar(self.platform, s), n),
            pa.array(self.post_id, s),
            pa.array(self.author, s),
            pa.array(self.author_id, s),
            pa.array(self.created, pa.int64()).cast(_TS),
            pa.array(self.text, s),
            pa.array(self.kind, s),
            pa.array(self.target_post_id, s),
            pa.array(self.target_author, s),
            pa.array(self.mentions, s),
            pa.array(self.hashtags, s),
            pa.array(self.lang, s),
            pa.repeat(pa.scalar(self.source, s), n),
            pa.array(self.line, pa.int64()),
        ]
        self._reset()
        return pa.Table.from_arrays(arrays, schema=_SCHEMA)


def interaction_table(rows: list[tuple[str, str, str, str | None, int | None]]) -> pa.Table | None:
    """Return ``(source, target, kind, post_id, micros or None)`` rows as interactions (weight 1).

    Examples
    --------
    >>> interaction_table([("a", "b", "like", "at://a/x/1", None)]).num_rows
    1
    """
    if not rows:
        return None
    source, target, kind, post_id, micros = zip(*rows, strict=True)
    s = pa.string()
    return pa.Table.from_arrays(
        [
            pa.array(source, s),
            pa.array(target, s),
            pa.array(kind, s),
            pa.array(post_id, s),
            pa.array(micros, pa.int64()).cast(_ISCHEMA.field("created_at").type),
            pa.array([1.0] * len(rows), pa.float64()),
        ],
        schema=_ISCHEMA,
    )

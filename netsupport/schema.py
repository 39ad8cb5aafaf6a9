"""Canonical tables, their columns and dtypes, and the names of kinds, stances and windows.

This is the one place that spells a column name or a label. Everything downstream of the importers
works on pandas DataFrames (or Arrow tables) with exactly these columns.

Examples
--------
>>> empty_frame(Table.FOLLOWS).columns.tolist()
['follower', 'followee', 'observed_at']
>>> str(IKind.MENTION)
'mention'
"""

from __future__ import annotations

from enum import StrEnum

import pandas as pd
import pyarrow as pa

__all__ = [
    "ACCOUNT_COLUMNS",
    "FOLLOW_COLUMNS",
    "INTERACTION_COLUMNS",
    "POST_COLUMNS",
    "REJECT_COLUMNS",
    "SCHEMAS",
    "AccountCol",
    "DeletionCol",
    "FollowCol",
    "IKind",
    "InteractionCol",
    "PostCol",
    "PostKind",
    "RejectCol",
    "Role",
    "Stance",
    "Table",
    "Target",
    "Window",
    "conform",
    "empty_frame",
    "normalise_handle",
]


class Table(StrEnum):
    """The canonical tables kept in a store."""

    POSTS = "posts"
    INTERACTIONS = "interactions"
    FOLLOWS = "follows"
    ACCOUNTS = "accounts"
    REJECTS = "rejects"
    DELETIONS = "deletions"


class PostKind(StrEnum):
    """What a post is: an original post, a reply, a repost (retweet) or a quote."""

    POST = "post"
    REPLY = "reply"
    REPOST = "repost"
    QUOTE = "quote"


class IKind(StrEnum):
    """Kinds of interaction edges (source account -> target account)."""

    REPLY = "reply"
    MENTION = "mention"
    REPOST = "repost"
    QUOTE = "quote"
    FOLLOW = "follow"
    MARKER = "marker"
    LIKE = "like"


class Stance(StrEnum):
    """Stance of an interaction towards its target."""

    SUPPORTIVE = "supportive"
    CRITICAL = "critical"
    NEUTRAL = "neutral"


class Window(StrEnum):
    """Analysis windows, in time order."""

    BASELINE = "baseline"
    CRISIS = "crisis"
    AFTER = "after"


class Target(StrEnum):
    """The two sides a study measures."""

    FOCAL = "focal"
    INSTITUTION = "institution"


class Role(StrEnum):
    """Account roles (from an accounts CSV, else bio keywords, else unknown)."""

    MEDIA = "media"
    JOURNALIST = "journalist"
    PROFESSIONAL = "professional"
    INSTITUTION = "institution"
    CITIZEN = "citizen"
    UNKNOWN = "unknown"


class PostCol(StrEnum):
    PLATFORM = "platform"
    POST_ID = "post_id"
    AUTHOR = "author"
    AUTHOR_ID = "author_id"
    CREATED_AT = "created_at"
    TEXT = "text"
    KIND = "kind"
    TARGET_POST_ID = "target_post_id"
    TARGET_AUTHOR = "target_author"
    # space-separated normalised handles (an addition to DESIGN.md: needed to derive mentions)
    MENTIONS = "mentions"
    HASHTAGS = "hashtags"  # space-separated lower-case hashtags without '#'
    LANG = "lang"
    SOURCE_FILE = "source_file"
    SOURCE_LINE = "source_line"


class InteractionCol(StrEnum):
    SOURCE = "source"
    TARGET = "target"
    KIND = "kind"
    POST_ID = "post_id"
    CREATED_AT = "created_at"
    WEIGHT = "weight"


class FollowCol(StrEnum):
    FOLLOWER = "follower"
    FOLLOWEE = "followee"
    OBSERVED_AT = "observed_at"


class AccountCol(StrEnum):
    HANDLE = "handle"
    ACCOUNT_ID = "account_id"
    NAME = "name"
    DESCRIPTION = "description"
    FOLLOWERS_COUNT = "followers_count"
    ROLE = "role"


class RejectCol(StrEnum):
    SOURCE_FILE = "source_file"
    SOURCE_LINE = "source_line"
    REASON = "reason"
    RAW = "raw"


class DeletionCol(StrEnum):
    """A delete event as an export records it (Bluesky's ``operation = "delete"``): the record
    it deletes, by its id (a post's, like's or repost's ``at://`` URI, as the posts and
    interactions tables key them), whose record it was, and when the relay saw the delete."""

    PLATFORM = "platform"
    RECORD_ID = "record_id"
    COLLECTION = "collection"
    AUTHOR = "author"
    DELETED_AT = "deleted_at"
    SOURCE_FILE = "source_file"
    SOURCE_LINE = "source_line"


_TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[Table, pa.Schema] = {
    Table.POSTS: pa.schema(
        [
            (PostCol.PLATFORM, pa.string()),
            (PostCol.POST_ID, pa.string()),
            (PostCol.AUTHOR, pa.string()),
            (PostCol.AUTHOR_ID, pa.string()),
            (PostCol.CREATED_AT, _TS),
            (PostCol.TEXT, pa.string()),
            (PostCol.KIND, pa.string()),
            (PostCol.TARGET_POST_ID, pa.string()),
            (PostCol.TARGET_AUTHOR, pa.string()),
            (PostCol.MENTIONS, pa.string()),
            (PostCol.HASHTAGS, pa.string()),
            (PostCol.LANG, pa.string()),
            (PostCol.SOURCE_FILE, pa.string()),
            (PostCol.SOURCE_LINE, pa.int64()),
        ]
    ),
    Table.INTERACTIONS: pa.schema(
        [
            (InteractionCol.SOURCE, pa.string()),
            (InteractionCol.TARGET, pa.string()),
            (InteractionCol.KIND, pa.string()),
            (InteractionCol.POST_ID, pa.string()),
            (InteractionCol.CREATED_AT, _TS),
            (InteractionCol.WEIGHT, pa.float64()),
        ]
    ),
    Table.FOLLOWS: pa.schema(
        [
            (FollowCol.FOLLOWER, pa.string()),
            (FollowCol.FOLLOWEE, pa.string()),
            (FollowCol.OBSERVED_AT, _TS),
        ]
    ),
    Table.ACCOUNTS: pa.schema(
        [
            (AccountCol.HANDLE, pa.string()),
            (AccountCol.ACCOUNT_ID, pa.string()),
            (AccountCol.NAME, pa.string()),
            (AccountCol.DESCRIPTION, pa.string()),
            (AccountCol.FOLLOWERS_COUNT, pa.int64()),
            (AccountCol.ROLE, pa.string()),
        ]
    ),
    Table.REJECTS: pa.schema(
        [
            (RejectCol.SOURCE_FILE, pa.string()),
            (RejectCol.SOURCE_LINE, pa.int64()),
            (RejectCol.REASON, pa.string()),
            (RejectCol.RAW, pa.string()),
        ]
    ),
    Table.DELETIONS: pa.schema(
        [
            (DeletionCol.PLATFORM, pa.string()),
            (DeletionCol.RECORD_ID, pa.string()),
            (DeletionCol.COLLECTION, pa.string()),
            (DeletionCol.AUTHOR, pa.string()),
            (DeletionCol.DELETED_AT, _TS),
            (DeletionCol.SOURCE_FILE, pa.string()),
            (DeletionCol.SOURCE_LINE, pa.int64()),
        ]
    ),
}

POST_COLUMNS = [f.name for f in SCHEMAS[Table.POSTS]]
INTERACTION_COLUMNS = [f.name for f in SCHEMAS[Table.INTERACTIONS]]
FOLLOW_COLUMNS = [f.name for f in SCHEMAS[Table.FOLLOWS]]
ACCOUNT_COLUMNS = [f.name for f in SCHEMAS[Table.ACCOUNTS]]
REJECT_COLUMNS = [f.name for f in SCHEMAS[Table.REJECTS]]


def normalise_handle(handle: str | None) -> str | None:
    """Return a handle lower-cased, stripped of white space and a leading '@'.

    Examples
    --------
    >>> normalise_handle(" @Inspector_Lane ")
    'inspector_lane'
    >>> normalise_handle("") is None
    True
    """
    if handle is None:
        return None
    h = str(handle).strip().lstrip("@").strip().lower()
    return h or None


def empty_frame(table: Table) -> pd.DataFrame:
    """Return an empty DataFrame with the table's columns and dtypes."""
    return SCHEMAS[table].empty_table().to_pandas(types_mapper=_types_mapper)


def _types_mapper(t: pa.DataType):  # keep strings as object, ints nullable
    if pa.types.is_integer(t):
        return pd.Int64Dtype()
    return None


def conform(df: pd.DataFrame, table: Table) -> pa.Table:
    """Return ``df`` as an Arrow table with exactly the canonical schema of ``table``.

    Missing optional columns are filled with nulls; extra columns are dropped; datetimes are
    converted to UTC microseconds.

    Raises
    ------
    ValueError
        If a column cannot be converted to its canonical type.
    """
    schema = SCHEMAS[table]
    arrays = []
    n = len(df)
    for field in schema:
        if field.name in df.columns:
            col = df[field.name]
            if pa.types.is_timestamp(field.type):
                col = pd.to_datetime(col, utc=True)
            arrays.append(pa.array(col, type=field.type, from_pandas=True))
        else:
            arrays.append(pa.nulls(n, type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)

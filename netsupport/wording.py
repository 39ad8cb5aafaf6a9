"""Counts in words for the command line and the metrics' text rows: ``1 community``,
``2 communities``. Free of other imports so that :mod:`netsupport.cli` and
:mod:`netsupport.support` (left of the report, DESIGN.md) use it; the report's own helper,
:func:`netsupport.report_format.fmt_counted`, also takes counts already formatted or missing.

Examples
--------
>>> counted(1, "community", "communities"), counted(12345, "post", "posts")
('1 community', '12,345 posts')
>>> unmatched_labels(1, 3)
'1 of 3 labels names no classified interaction and is not used'
"""

from __future__ import annotations

__all__ = ["counted", "unmatched_labels"]


def counted(n: int, one: str, many: str) -> str:
    """Return ``n`` with thousands separators and the wording that agrees with it.

    Parameters
    ----------
    n : int
        The count.
    one, many : str
        The words after the number when ``n`` is 1 and otherwise (a noun, or a noun and its
        verb: ``"label names"``, ``"labels name"``).

    Returns
    -------
    str
        ``"1 community"``, ``"3 communities"``.
    """
    return f"{int(n):,} {one if int(n) == 1 else many}"


def unmatched_labels(unmatched: int, labels: int) -> str:
    """Return the warning that ``unmatched`` of ``labels`` hand labels name no classified
    interaction (``netsupport stance``, ``support`` and ``run`` give it), its verb agreeing
    with ``unmatched``: "1 of 3 labels names ... and is", "2 of 3 labels name ... and are".
    """
    verb = (
        "names no classified interaction and is"
        if unmatched == 1
        else ("name no classified interaction and are")
    )
    return f"{unmatched:,} of {counted(labels, 'label', 'labels')} {verb} not used"

"""A status's HTML as plain text: lexbor's HTML5 parser where its text is libxml2's, lxml's HTML
parser for the rest. :mod:`netsupport.io.mastodon` reads a status's and a profile's HTML
``content`` with it.

Line breaks (``<br>``) and paragraph ends become ``\\n``; entities are decoded.
"""

from __future__ import annotations

import re

import lxml.etree
from selectolax.lexbor import LexborHTMLParser

__all__ = ["html_to_text", "html_to_text_many"]

_BR_RE = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.I)
_HTML_PARSER = lxml.etree.HTMLParser(recover=True, no_network=True)
_STRING = lxml.etree.XPath("string()")
_SEP = "\ue000"  # a private-use character: separates the members of a parsed group
_GROUP = 200
#: Elements whose content the parser takes as raw text (they could swallow the separator and
#: the next member): a group holding one, a comment or a processing instruction is parsed again
#: member by member.
_RAW_TAGS = (
    "script",
    "style",
    "textarea",
    "title",
    "xmp",
    "plaintext",
    "noscript",
    "iframe",
    "noembed",
    "noframes",
    lxml.etree.Comment,
    lxml.etree.ProcessingInstruction,
)
#: Elements whose text an HTML5 parser (lexbor) and libxml2's HTML parser read alike (the
#: markup Mastodon's sanitizer lets through, less ``<pre>``: HTML5 drops a line break right after
#: it, libxml2 keeps it). See :func:`_lexbor_safe`.
_LEXBOR_TAGS = frozenset(
    {
        *("a", "abbr", "b", "blockquote", "br", "cite", "code", "del", "div", "em", "h1", "h2"),
        *("h3", "h4", "h5", "h6", "i", "ins", "li", "ol", "p", "q", "s", "small", "span"),
        *("strong", "sub", "sup", "u", "ul"),
    }
)
#: A tag whose name (as the HTML5 tokenizer reads it: up to whitespace, / or >; ASCII letters
#: in any case) is not one of those, or ``<!`` ``<?`` ``</`` not followed by a letter (comments,
#: doctypes, bogus comments). (A ``<`` before anything else is text.)
_NOT_LEXBOR_RE = re.compile(
    r"<(?=[A-Za-z!?/])(?!/?(?:"
    + "|".join(["p", "span", "a", "br", *sorted(_LEXBOR_TAGS - {"p", "span", "a", "br"})])
    + r")(?:[\t\n\x0c\r />]|\Z))",
    re.IGNORECASE | re.ASCII,
)


def html_to_text(content: object) -> str | None:
    """Return the plain text of a status's HTML ``content`` (lxml's HTML parser).

    Line breaks (``<br>``) and paragraph ends become ``\\n``; entities are decoded.
    """
    if type(content) is not str:
        return None
    if "<" not in content and "&" not in content:
        return content
    try:
        root = lxml.etree.fromstring(_BR_RE.sub("\n", content), _HTML_PARSER)
    except (lxml.etree.LxmlError, ValueError):
        return content
    if root is None:
        return ""
    return _STRING(root).strip()


def html_to_text_many(contents: list) -> list:
    """Return :func:`html_to_text` of each value, parsing them in groups (twice as fast), and
    each distinct value once.

    A group is joined with a private-use character between its members, parsed once, and its
    text split again at those characters. A member holding that character is parsed alone; a
    group whose text does not split back into as many pieces as it has members, or whose tree
    holds an element read as raw text (``<script>``, ``<title>``...), a comment or a processing
    instruction (any of which could swallow what follows), is parsed again member by member.

    Examples
    --------
    >>> html_to_text_many(["<p>a &amp; b</p>", None, "<p>c<br>d", "plain", "<p>a &amp; b</p>"])
    ['a & b', None, 'c\\nd', 'plain', 'a & b']
    """
    out = list(contents)
    group: list[int] = []
    first: dict[str, int] = {}  # content -> where it first came (boosts repeat a status's HTML)
    again: list[tuple[int, int]] = []
    for i, c in enumerate(contents):
        if type(c) is not str or ("<" not in c and "&" not in c):
            continue
        seen = first.setdefault(c, i)
        if seen != i:
            again.append((i, seen))
            continue
        if _SEP in c:
            out[i] = html_to_text(c)
            continue
        group.append(i)
        if len(group) == _GROUP:
            _parse_group(contents, group, out)
            group = []
    if group:
        _parse_group(contents, group, out)
    for i, seen in again:
        out[i] = out[seen]
    return out


def _lexbor_safe(doc: str) -> bool:
    """Whether lexbor's text of ``doc`` is libxml2's: every tag in :data:`_LEXBOR_TAGS`, no
    comment, doctype or processing instruction, no NUL and no byte-order mark.

    This picks the parser; it reads no text. Elsewhere the two parsers differ (measured against
    each other on generated markup): a NUL (libxml2 keeps U+FFFD, HTML5 drops it), a leading
    byte-order mark (libxml2 drops it), a line break right after ``<pre>`` or ``<textarea>``
    (HTML5 drops it), ``<frameset>``, ``<svg>``/``<math>`` content, tables (HTML5 moves stray
    text before the table), raw-text elements. A tag name inside an attribute value counts too
    (the check errs towards lxml).

    Examples
    --------
    >>> _lexbor_safe('<p><span class="h-card"><a href="x">@a</a></span> b<br>c</p>')
    True
    >>> _lexbor_safe("<p>a</p><pre>b</pre>"), _lexbor_safe("a <!-- b -->"), _lexbor_safe("a\\x00")
    (False, False, False)
    """
    return "\x00" not in doc and "\ufeff" not in doc and _NOT_LEXBOR_RE.search(doc) is None


def _parse_group(contents: list, group: list[int], out: list) -> None:
    # (one pass over the group: a break or paragraph match cannot take in a separator without
    # the pieces then falling short, which sends the group member by member)
    doc = _BR_RE.sub("\n", _SEP.join([contents[i] for i in group]))
    if _lexbor_safe(doc):  # lexbor: the same text, about three times faster than libxml2
        pieces = LexborHTMLParser(doc).text(deep=True).split(_SEP)
        if len(pieces) == len(group):
            for i, piece in zip(group, pieces, strict=True):
                out[i] = piece.strip()
            return
    try:
        root = lxml.etree.fromstring(doc, _HTML_PARSER)
        pieces = []
        if root is not None and next(root.iter(*_RAW_TAGS), None) is None:
            pieces = _STRING(root).split(_SEP)
    except (lxml.etree.LxmlError, ValueError):
        pieces = []
    if len(pieces) != len(group):
        for i in group:
            out[i] = html_to_text(contents[i])
        return
    for i, piece in zip(group, pieces, strict=True):
        out[i] = piece.strip()

"""The text of simple status markup without a parser (html_text._simple_text) against lexbor's.

Guards against: a tag, entity or character the fast path reads otherwise than the HTML5 parser
does (a reference glued together across a removed tag, ``<<span>p>`` forming a new tag, a quoted
``>`` or tag inside an attribute value, a carriage return, a lone surrogate, a reference lexbor
decodes by HTML5's legacy rules).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser

from netsupport.io import html_text
from netsupport.io.html_text import _BR_RE, _SEP, _lexbor_safe, _simple_text, html_to_text_many

_SIMPLE_TAGS = ["p", "span", "a", "b", "strong", "u", "i", "em", "del", "code", "blockquote"]
_SIMPLE_TAGS += ["ul", "ol", "li", "h1", "h6", "s", "small", "sub", "sup", "q", "abbr", "div"]
#: Tags outside the fast path's set, or written as Mastodon does not write them.
_OTHER_TAGS = ["pre", "P", "Span", "img", "table", "td", "textarea", "title", "script", "svg"]
_OTHER_TAGS += ["br", "hr", "pa", "spans", "bdi", "select", "frameset", "math"]

_ENTITY = st.sampled_from(
    [
        *("&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&apos;", "&nbsp;", "&AMP;", "&amp", "&lt"),
        *("&copy;", "&copy", "&notit;", "&noti", "&#0;", "&#1;", "&#x80;", "&#128;", "&#xD800;"),
        *("&#x110000;", "&#x1F600;", "&#65;", "&#x41;", "&#", "&#x;", "&", "&;", "&&amp;"),
        "&amp;lt;",
    ]
)
_CHARS = st.sampled_from(
    [
        *"ab xyz019\n\t\x0c\x0b\x01\x7f<>&=\"'/!?#@;.-",
        *("é", "ß", "\u00a0", "\u2028", "\U0001f600", "\ud800", "\udfff", "\r", "\r\n", "\x00"),
        *("\ufeff", "\ue000", _SEP, "\u212a", "<!--", "-->", "<?", "</", "< p>", "<3"),
    ]
)
_TEXT = st.lists(_CHARS | _ENTITY, max_size=8).map("".join)
_ATTR_VALUE = st.lists(
    st.sampled_from([*"ab:/.@#?=& ", "&amp;", "&quot;", "'", ">", "<", "<p>", '"', "é"]),
    max_size=6,
).map("".join)


@st.composite
def _attribute(draw) -> str:
    name = draw(st.sampled_from(["href", "class", "rel", "translate", "title", "data-x", "CLASS"]))
    value = draw(_ATTR_VALUE)
    quote = draw(st.sampled_from(['"', '"', '"', "'", ""]))
    space = draw(st.sampled_from([" ", " ", "  ", "\n", "\t", "\x0c", "\r", ""]))
    if draw(st.booleans()) and not quote:  # (a valueless attribute: reversed, ...)
        return f"{space}{name}"
    return f"{space}{name}={quote}{value}{quote}"


@st.composite
def _element(draw, children) -> str:
    name = draw(st.sampled_from(_SIMPLE_TAGS) | st.sampled_from(_OTHER_TAGS))
    attrs = "".join(draw(st.lists(_attribute(), max_size=3)))
    end = draw(st.sampled_from([">", ">", ">", "/>", " />", " >", "\n>"]))
    inner = "".join(draw(st.lists(children, max_size=4)))
    close = draw(st.sampled_from([f"</{name}>", f"</{name}>", f"</{name} >", ""]))
    return f"<{name}{attrs}{end}{inner}{close}"


@st.composite
def _simple_element(draw, children) -> str:
    # (as Mastodon writes its markup: the fast path takes most of these)
    name = draw(st.sampled_from(_SIMPLE_TAGS))
    values = st.lists(st.sampled_from([*"ab:/.@#?= é'", "&amp;"]), max_size=5).map("".join)
    attrs = draw(st.lists(st.tuples(st.sampled_from(["href", "class", "rel"]), values), max_size=2))
    inner = "".join(draw(st.lists(children, max_size=4)))
    close = draw(st.sampled_from([f"</{name}>", f"</{name}>", ""]))
    attributes = "".join(f' {k}="{v}"' for k, v in attrs)
    return f"<{name}{attributes}>{inner}{close}"


_SIMPLE_TEXT = st.lists(
    st.sampled_from(["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&nbsp;", "<br>", "</p><p>"])
    | st.text(st.sampled_from([*"ab \n\t>\"'#@", "é", "\U0001f600", "\x0b"]), max_size=4),
    max_size=4,
).map("".join)
_BREAK = st.sampled_from(["<br>", "<br/>", "<br />", "<BR>", "</p><p>", "</p>\n<p>", "</p><p x>"])
#: Mastodon-shaped markup: nested elements, text, references and line breaks.
_HTML = st.recursive(_TEXT | _BREAK, lambda c: _element(c), max_leaves=12)
_SIMPLE_HTML = st.recursive(_SIMPLE_TEXT, lambda c: _simple_element(c), max_leaves=12)
_CONTENT = st.lists(_HTML | _SIMPLE_HTML, min_size=1, max_size=4).map("".join)

_SETTINGS = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _lexbor(doc: str) -> str:
    return LexborHTMLParser(doc).text(deep=True)


@_SETTINGS
@given(contents=st.lists(_CONTENT, min_size=1, max_size=6))
@example(contents=["<<span>p>x"])
@example(contents=["&am<span>p;"])
@example(contents=['<a title="<p>">x</a>'])
@example(contents=['<a title="x>y" href="&quot;">x</a>&amp;lt;'])
@example(contents=["a\r\nb<p>"])
@example(contents=["a\ud800b<p>"])
@example(contents=["<p>a</p><pre>\nb</pre>"])
@example(contents=['<span class="h-card">', "</span>x"])
def test_simple_text_is_lexbor_s_text(contents):
    # as _parse_group builds a group's document: line breaks substituted, members joined
    doc = _BR_RE.sub("\n", _SEP.join(contents))
    got = _simple_text(doc)
    if got is not None:
        assert _lexbor_safe(doc)  # (what the fast path takes, lexbor took before it)
        want = _lexbor(doc)
        # (the parser drops white space before the body opens, at the start of the document:
        # the pieces are stripped after the split)
        assert got.endswith(want) and not got[: len(got) - len(want)].strip(" \t\n\x0c")
        assert [p.strip() for p in got.split(_SEP)] == [p.strip() for p in want.split(_SEP)]


@pytest.mark.parametrize(
    "doc",
    [
        "<p>a</p><pre>\nb</pre>",  # <pre> drops the line break after it
        "<P>a</P>",  # upper case: not as Mastodon writes it
        "<<span>p>x",  # removing the inner tag would make a new one
        "&am<span>p;",  # removing the tag would make a reference
        '<a title="<p>">x</a>',  # a tag in an attribute value
        "a &copy; b",  # another reference than Mastodon writes
        "a &amp b",  # no semicolon: HTML5's legacy rules
        "a\r\nb",  # the parser makes a carriage return a line feed
        "a\ud800b",  # selectolax drops a lone surrogate
        "a\x00b",
        "\ufeffa",
        "a < b",  # a bare < (Mastodon writes &lt;)
        "<!-- c -->",
        "<img src=x>",
        '<a href=x class="y">',  # an unquoted value
        "<ol reversed>",  # a valueless attribute
    ],
)
def test_markup_outside_the_simple_set_goes_to_the_parser(doc):
    assert _simple_text(doc) is None


def test_simple_text_of_mastodon_markup():
    doc = (
        '<p><span class="h-card" translate="no"><a href="https://x.y/@al" class="u-url mention">'
        "@<span>al</span></a></span> a &amp; b &lt;3 &quot;q&quot; &#39;s&#39;</p><p>é "
        '<a href="https://t.y/tags/t" class="mention hashtag" rel="tag">#<span>t</span></a> '
        '<a href="https://e.x/a?b=1&amp;c=2" target="_blank" rel="nofollow noopener">'
        '<span class="invisible">https://</span><span class="ellipsis">e.x/a</span>'
        '<span class="invisible">?b=1&amp;c=2</span></a></p>'
    )
    doc = _BR_RE.sub("\n", doc)
    assert _simple_text(doc) == "@al a & b <3 \"q\" 's'\né #t https://e.x/a?b=1&c=2"
    assert _simple_text(doc) == _lexbor(doc)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contents=st.lists(_CONTENT | st.none(), min_size=1, max_size=30))
def test_html_to_text_many_is_the_same_without_the_fast_path(contents):
    got = html_to_text_many(contents)
    original = html_text._simple_text
    html_text._simple_text = lambda doc: None
    try:
        want = html_to_text_many(contents)
    finally:
        html_text._simple_text = original
    assert got == want

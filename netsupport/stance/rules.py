"""Stance of each interaction towards its target: supportive, critical or neutral.

The classifier is a transparent rule system over VADER (Hutto & Gilbert 2014) and a study lexicon
of support and critique phrases; every row of its output names the rule that decided it, so a
researcher can audit a sample and hand-code where it errs. METHODS.md, section "Stance", gives the
rules in order; in short, for one target side (the focal account or the institution):

1. a hand label for the post (labels CSV) decides;
2. a repost of the target's own post is endorsement (supportive);
3. lexicon phrases aimed at the target (or unaimed) decide by their net polarity, negation flips a
   phrase ("not a disgrace"); a phrase is aimed at the account whose handle follows it within two
   words ("shame on @force") or, failing that, the nearest handle before it in the same sentence
   ("@force should be ashamed"); sympathy phrases ("condolences", "so sad") are support;
4. target awareness: an account that is the object of a criticised action ("for silencing
   @inspector", "suspending @inspector is a disgrace") is supported, and a critique aimed at the
   institution is support for the focal account, not critique of it;
5. when every phrase is aimed at others, VADER scores the remaining words; reporting language
   ("breaking", "statement") makes a post neutral news;
6. a post of questions only, with no phrase, is neutral; otherwise VADER's compound score with the
   study's thresholds, except that a critical reading of event news ("two dead after shooting")
   that does not address its reader is neutral.

Every distinct text is scored once (both sides at once), in worker processes when there are many.

Examples
--------
>>> c = Classifier(focal=["inspector"], institution=["force"])
>>> scored = c.score_text("Shame on @force for silencing @inspector")
>>> scored["focal"], scored["institution"]
(('supportive', 1.0, 'victim:silencing'), ('critical', -1.0, 'lexicon:shame on'))
>>> c.score_text("@inspector is not a disgrace")["focal"]
('supportive', 1.0, 'lexicon:disgrace*')
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import threading
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputFileError, NetsupportError
from ..io.pool import exit_with_parent
from ..schema import (
    IKind,
    InteractionCol,
    PostCol,
    Role,
    Stance,
    Target,
    normalise_handle,
)
from ..windows import Windows, assign_windows

#: Columns of the stance audit table (stance.csv), in order.
STANCE_COLUMNS = [
    "post_id",
    "source",
    "target",
    "kind",
    "created_at",
    "window",
    "target_side",
    "stance",
    "score",
    "rule",
]

#: The order stance labels are reported in (confusion matrices, shares).
STANCE_ORDER = (Stance.SUPPORTIVE.value, Stance.CRITICAL.value, Stance.NEUTRAL.value)

_SIDES = (Target.FOCAL.value, Target.INSTITUTION.value)
_SUP, _CRI, _NEU = STANCE_ORDER

# Rules (the `rule` column). Lexicon-based rules carry the deciding phrase after a colon.
RULE_LABEL = "label"
RULE_REPOST = "repost"
RULE_LIKE = "like"
RULE_LIKE_UNTIMED = "like-without-time"
RULE_LEXICON = "lexicon"
RULE_MARKER = "marker"
RULE_VICTIM = "victim"
RULE_TWO_TARGET = "two-target"
RULE_ELSEWHERE = "aimed-elsewhere"
RULE_NEUTRAL = "neutral"
RULE_SYMPATHY = "sympathy"
RULE_EVENT = "event"
RULE_QUESTION = "question"
RULE_VADER = "vader"
RULE_NO_TEXT = "no-text"

#: Words the following-handle search may skip (a phrase aims at a handle at most this far on).
_FOLLOW_GAP = 2
#: Words joining a list of handles into one group ("@a and @b").
_JOINERS = frozenset({"and", "or", "&"})
#: Filler words allowed between a victim word and its handle ("silencing our @inspector").
_VICTIM_FILLERS = frozenset({"our", "poor", "the", "a", "an", "my", "your", "their", "this"})
#: Second-person words: a post that addresses its reader ("your statement", "you let him go")
#: evaluates the addressee, so reporting and event words do not make it neutral news.
_SECOND_PERSON = frozenset(
    {"you", "your", "yours", "you're", "youre", "you've", "you'll", "yourself", "yourselves", "ur"}
)
#: Words after which a reporting phrase is the addressee's own ("your statement"), not news.
_POSSESSIVE_2P = frozenset({"your", "ur"})
#: Words an evaluation may skip to reach the event it describes ("shocking knife attack").
_EVENT_GAP = 2


# ---- lexicon -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lexicon:
    """The phrase lists the classifier uses (see netsupport/data/lexicon.toml for the format).

    Examples
    --------
    >>> lex = load_lexicon()
    >>> "shame on" in lex.critique and "stand with" in lex.support
    True
    """

    support: tuple[str, ...] = ()
    critique: tuple[str, ...] = ()
    neutral: tuple[str, ...] = ()
    sympathy: tuple[str, ...] = ()
    event: tuple[str, ...] = ()
    negators: tuple[str, ...] = ()
    negation_scope: int = 3
    negation_exceptions: tuple[str, ...] = ()
    victim: tuple[str, ...] = ()
    focal_supportive: tuple[str, ...] = ()
    focal_critical: tuple[str, ...] = ()
    institution_supportive: tuple[str, ...] = ()
    institution_critical: tuple[str, ...] = ()
    roles: tuple[tuple[str, tuple[str, ...]], ...] = ()
    sources: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        """Return a JSON-able summary (sources and list sizes) for reports and manifests."""
        return {
            "sources": list(self.sources),
            "support_phrases": len(self.support),
            "critique_phrases": len(self.critique),
            "neutral_phrases": len(self.neutral),
            "sympathy_phrases": len(self.sympathy),
            "event_words": len(self.event),
            "victim_words": len(self.victim),
            "markers": len(self.focal_supportive) + len(self.focal_critical),
            "institution_markers": len(self.institution_supportive)
            + len(self.institution_critical),
            "negation_scope": self.negation_scope,
        }


def _phrases(data: Mapping[str, Any], section: str, key: str, path: str) -> tuple[str, ...]:
    sec = data.get(section, {})
    if not isinstance(sec, Mapping):
        raise InputFileError(path, f"[{section}] must be a table")
    values = sec.get(key, [])
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InputFileError(path, f"[{section}] {key} must be a list of strings")
    return tuple(_norm_phrase(v) for v in values if _norm_phrase(v))


def _norm_phrase(p: str) -> str:
    return " ".join(p.lower().replace("\u2019", "'").replace("\u2018", "'").split())


def _tag(p: str) -> str:
    return p.strip().lower().lstrip("#")


_LEXICON_SECTIONS = {
    "extends_default",
    "support",
    "critique",
    "neutral",
    "sympathy",
    "event",
    "negation",
    "victim",
    "markers",
    "institution_markers",
    "roles",
}


def _parse_lexicon(data: Mapping[str, Any], path: str) -> Lexicon:
    unknown = sorted(set(data) - _LEXICON_SECTIONS)
    if unknown:
        raise InputFileError(
            path,
            f"unknown lexicon section {unknown[0]!r} (expected one of: "
            f"{', '.join(sorted(_LEXICON_SECTIONS))})",
        )
    neg = data.get("negation", {})
    scope = neg.get("scope", 3) if isinstance(neg, Mapping) else 3
    if not isinstance(scope, int) or isinstance(scope, bool) or scope < 0:
        raise InputFileError(path, "[negation] scope must be a whole number >= 0")
    roles_raw = data.get("roles", {})
    if not isinstance(roles_raw, Mapping):
        raise InputFileError(path, "[roles] must be a table")
    roles = []
    for role, words in roles_raw.items():
        if role not in {r.value for r in Role} or role in (Role.UNKNOWN, Role.CITIZEN):
            raise InputFileError(
                path,
                f"[roles] {role!r} is not a keyword role (institution, media, journalist, "
                "professional; citizen is the default)",
            )
        roles.append(
            (role, tuple(_norm_phrase(w) for w in _as_strings(words, f"[roles] {role}", path)))
        )
    multi = [w for w in _phrases(data, "event", "words", path) if " " in w]
    if multi:
        raise InputFileError(path, f"[event] words are single words or stems, got {multi[0]!r}")
    return Lexicon(
        support=_phrases(data, "support", "phrases", path),
        critique=_phrases(data, "critique", "phrases", path),
        neutral=_phrases(data, "neutral", "phrases", path),
        sympathy=_phrases(data, "sympathy", "phrases", path),
        event=_phrases(data, "event", "words", path),
        negators=_phrases(data, "negation", "words", path),
        negation_scope=scope,
        negation_exceptions=_phrases(data, "negation", "exceptions", path),
        victim=_phrases(data, "victim", "words", path),
        focal_supportive=tuple(_tag(t) for t in _phrases(data, "markers", "supportive", path)),
        focal_critical=tuple(_tag(t) for t in _phrases(data, "markers", "critical", path)),
        institution_supportive=tuple(
            _tag(t) for t in _phrases(data, "institution_markers", "supportive", path)
        ),
        institution_critical=tuple(
            _tag(t) for t in _phrases(data, "institution_markers", "critical", path)
        ),
        roles=tuple(roles),
        sources=(path,),
    )


def _as_strings(values: Any, what: str, path: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InputFileError(path, f"{what} must be a list of strings")
    return values


def _merge(base: Lexicon, extra: Lexicon) -> Lexicon:
    def cat(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a + b))

    roles = dict(base.roles)
    for role, words in extra.roles:
        roles[role] = cat(roles.get(role, ()), words)
    order = [r for r, _ in base.roles] + [r for r, _ in extra.roles if r not in dict(base.roles)]
    return Lexicon(
        support=cat(base.support, extra.support),
        critique=cat(base.critique, extra.critique),
        neutral=cat(base.neutral, extra.neutral),
        sympathy=cat(base.sympathy, extra.sympathy),
        event=cat(base.event, extra.event),
        negators=cat(base.negators, extra.negators),
        negation_scope=extra.negation_scope,
        negation_exceptions=cat(base.negation_exceptions, extra.negation_exceptions),
        victim=cat(base.victim, extra.victim),
        focal_supportive=cat(base.focal_supportive, extra.focal_supportive),
        focal_critical=cat(base.focal_critical, extra.focal_critical),
        institution_supportive=cat(base.institution_supportive, extra.institution_supportive),
        institution_critical=cat(base.institution_critical, extra.institution_critical),
        roles=tuple((r, roles[r]) for r in order),
        sources=base.sources + extra.sources,
    )


def _read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """Return the lexicon file's TOML and the SHA-256 of its bytes (read once)."""
    try:
        raw = path.read_bytes()
        text = (
            raw.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
        )  # (read_text; a BOM)
        return tomllib.loads(text), hashlib.sha256(raw).hexdigest()
    except FileNotFoundError:
        raise InputFileError(path, "lexicon file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, f"cannot read lexicon ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(path, f"invalid TOML: {exc}") from None


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Return the default lexicon, extended (or replaced) by the study lexicon at ``path``.

    Parameters
    ----------
    path : path, optional
        A TOML file with any of the sections of the default lexicon. Its lists are appended to the
        default ones, unless it starts with ``extends_default = false``.

    Raises
    ------
    InputFileError
        The file is missing, not TOML, or has an unknown section or a wrong type.

    Examples
    --------
    >>> load_lexicon().sources
    ('netsupport/data/lexicon.toml',)
    """
    text = resources.files("netsupport").joinpath("data/lexicon.toml").read_text(encoding="utf-8")
    default = _parse_lexicon(tomllib.loads(text), "netsupport/data/lexicon.toml")
    if path is None:
        return default
    path = Path(path)
    data, digest = _read_toml(path)
    extends = data.get("extends_default", True)
    if not isinstance(extends, bool):
        raise InputFileError(path, "extends_default must be true or false")
    study = _parse_lexicon(data, str(path))
    # (named by its file name and content, not where it lies: outputs do not change with the
    # folder a study is run from, and a changed lexicon shows)
    study = replace(study, sources=(f"{path.name} sha256:{digest[:16]}",))
    return _merge(default, study) if extends else study


# ---- text analysis -------------------------------------------------------------------------------

#: A handle as texts write it: ``@name``; a Bluesky handle with its domain labels
#: (``@lane.bsky.social``: two or more labels, or one that is a common top-level domain, as in
#: ``@lane.com``) and a Mastodon one with its host (``@lane@police.social``), so that their dots
#: are not read as sentence ends nor their labels as words. A single other label is not joined:
#: a Twitter text's "@lane.thanks so much" is a handle and the words after a missing space.
_TLDS = "com|org|net|edu|gov|uk|social|app|dev|io|xyz|online|news|blue|page|fr|nl|ie|au|ca"
_HANDLE = (
    r"(?<![\w@])@\w{1,50}"
    rf"(?:(?:\.\w[\w-]*){{2,}}|\.(?:{_TLDS})\b(?!\.\w)|@\w[\w-]*(?:\.\w[\w-]*)+)?"
)
_TOKEN_RE = re.compile(
    r"(?P<url>(?:https?://|www\.)\S+)"
    rf"|(?P<handle>{_HANDLE})"
    r"|(?P<tag>#\w+)"
    r"|(?P<word>[^\W_]+(?:'[^\W_]+)*|&)"
    r"|(?P<stop>[.!?;]+|\n)"
)
_URL_RE = re.compile(r"(?:https?://|www\.)\S+")
_HANDLE_RE = re.compile(_HANDLE)
_HANDLE_SHORT = re.compile(r"[.@]")

_W, _H, _T, _S = 0, 1, 2, 3  # token kinds: word, handle, hashtag, sentence stop


@dataclass(frozen=True)
class _Phrase:
    tokens: tuple[str, ...]  # exact words; "stem*" prefix; "@" = a handle must follow
    polarity: int  # +1 support, -1 critique, 0 neutral
    label: str
    kind: str = RULE_LEXICON


def _compile(phrase: str, polarity: int, kind: str = RULE_LEXICON) -> _Phrase:
    return _Phrase(tuple(phrase.split()), polarity, phrase, kind)


def _word_match(pattern: str, word: str) -> bool:
    if pattern.endswith("*") and len(pattern) > 1:
        return word.startswith(pattern[:-1])
    return word == pattern


def _prefix_regex(stems: Sequence[str]) -> re.Pattern[str]:
    """Return a regex matching words that start with any of ``stems``."""
    return re.compile("|".join(re.escape(x) for x in sorted(set(stems), key=len, reverse=True)))


def _word_regex(patterns: Sequence[str]) -> re.Pattern[str]:
    """Return a regex fully matching a word against lexicon patterns (``stem*`` or exact)."""
    alts = [
        re.escape(p[:-1]) + r".*" if p.endswith("*") and len(p) > 1 else re.escape(p)
        for p in patterns
    ]
    return re.compile("(?:" + "|".join(alts) + r")\Z" if alts else r"(?!)")


@dataclass
class _Match:
    start: int
    end: int  # exclusive
    phrase: _Phrase
    polarity: int  # after negation
    aim: frozenset[str] | None = None  # sides ("focal", "institution", "other"); None = unaimed


@dataclass
class _Tokens:
    kinds: list[int]
    values: list[str]
    sentence: list[int]
    questions: frozenset[int] = frozenset()  # sentences that end with "?"

    def __len__(self) -> int:
        return len(self.kinds)


@dataclass
class _Reading:
    """What the lexicon finds in one text."""

    matches: list[_Match] = field(default_factory=list)
    victim_word: dict[str, str] = field(default_factory=dict)  # side -> victim word
    has_words: bool = False
    residual: str = ""  # the words no support/critique phrase covers
    event_word: str | None = None  # the first event word outside every phrase
    second_person: bool = False  # the post addresses its reader ("you", "your")
    all_questions: bool = False  # every sentence with words ends with "?"


@functools.cache
def _emoji_names() -> dict[int, str]:
    """Return ``{code point: " name "}`` for single-code-point emoji (CLDR short names, as VADER's
    own table gives them: "👍" -> "thumbs up"), so the lexicon can name emoji in words."""
    table = resources.files("vaderSentiment").joinpath("emoji_utf8_lexicon.txt")
    out: dict[int, str] = {}
    for line in table.read_text(encoding="utf-8").splitlines():
        char, _, name = line.rstrip("\r").partition("\t")
        words = re.sub(r"[^\w\s]", " ", name.lower()).split()
        if len(char) == 1 and words:
            out[ord(char)] = " " + " ".join(words) + " "
    return out


def _tokenize(text: str) -> _Tokens:
    kinds: list[int] = []
    values: list[str] = []
    sentence: list[int] = []
    questions: set[int] = set()
    sid = 0
    low = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    if not low.isascii():  # emoji become their names: "@x 👏👏" reads "@x clapping hands ..."
        low = low.translate(_emoji_names())
    for m in _TOKEN_RE.finditer(low):
        group = m.lastgroup
        if group == "url":
            continue
        if group == "stop":
            if "?" in m.group():
                questions.add(sid)
            sid += 1
            continue
        tok = m.group()
        if group == "handle":
            kinds.append(_H)
            values.append(tok[1:])
        elif group == "tag":
            kinds.append(_T)
            values.append(tok[1:])
        else:
            kinds.append(_W)
            values.append(tok)
        sentence.append(sid)
    return _Tokens(kinds, values, sentence, frozenset(questions))


class _Analyser:
    """Scores texts towards the focal and institution sides (one instance per worker process)."""

    def __init__(
        self,
        lexicon: Lexicon,
        focal: Iterable[str],
        institution: Iterable[str],
        positive_threshold: float,
        negative_threshold: float,
    ):
        self.side_of: dict[str, str] = {h: Target.INSTITUTION.value for h in institution}
        self.side_of.update({h: Target.FOCAL.value for h in focal})
        self.pos = positive_threshold
        self.neg = negative_threshold
        self.negators = frozenset(lexicon.negators)
        self.scope = lexicon.negation_scope
        self.negation_exceptions = [tuple(p.split()) for p in lexicon.negation_exceptions]
        self.event_gate = _word_regex(lexicon.event)
        phrases = (
            [_compile(p, +1) for p in lexicon.support]
            + [_compile(p, +1, RULE_SYMPATHY) for p in lexicon.sympathy]
            + [_compile(p, -1) for p in lexicon.critique]
            + [_compile(p, 0) for p in lexicon.neutral]
        )
        # phrases indexed by their first word; those starting with a stem are tried one by one
        self.by_first: dict[str, list[_Phrase]] = {}
        self.stem_first: list[_Phrase] = []
        for ph in phrases:
            first = ph.tokens[0]
            if first.endswith("*") or first == "@":
                self.stem_first.append(ph)
            else:
                self.by_first.setdefault(first, []).append(ph)
        # a handle's previous word must match one of these before the victim phrases are tried
        stems = [ph.tokens[0][:-1] for ph in self.stem_first if ph.tokens[0] != "@"]
        self.stem_gate = _prefix_regex(stems) if stems else None
        self.victims = [tuple(v.split()) for v in lexicon.victim]
        last = [v[-1] for v in self.victims]
        self.victim_gate = _word_regex(last)
        self.markers: dict[str, tuple[str, int]] = {}
        for tags, side, pol in (
            (lexicon.focal_supportive, Target.FOCAL.value, +1),
            (lexicon.focal_critical, Target.FOCAL.value, -1),
            (lexicon.institution_supportive, Target.INSTITUTION.value, +1),
            (lexicon.institution_critical, Target.INSTITUTION.value, -1),
        ):
            for tag in tags:
                self.markers[tag] = (side, pol)
        self._vader: Any = None
        #: VADER's compound of the whole text :meth:`score` last read, when it computed it
        self.text_vader: float | None = None

    # -- lexicon matching --------------------------------------------------------------------------
    @staticmethod
    def _matches_at(ph: _Phrase, i: int, t: _Tokens) -> int:
        """Return the end of ``ph`` matched at token ``i`` (exclusive), or -1."""
        n = len(t)
        j = i
        for pat in ph.tokens:
            if pat == "@":  # a handle must follow; it is not part of the phrase
                return j if j < n and t.kinds[j] == _H else -1
            if j >= n or t.kinds[j] == _H or not _word_match(pat, t.values[j]):
                return -1
            j += 1
        return j

    def _phrase_at(self, i: int, t: _Tokens) -> tuple[_Phrase, int] | None:
        best: tuple[_Phrase, int] | None = None
        word = t.values[i]
        cands: Iterable[_Phrase] = self.by_first.get(word, ())
        if self.stem_gate is not None and self.stem_gate.match(word):
            cands = (*cands, *self.stem_first)
        for ph in cands:
            end = self._matches_at(ph, i, t)
            if end > i and (best is None or len(ph.tokens) > len(best[0].tokens)):
                best = (ph, end)
        return best

    def _negated(self, start: int, t: _Tokens) -> bool:
        seen, k = 0, start - 1
        while k >= 0 and seen < self.scope and t.sentence[k] == t.sentence[start]:
            if t.kinds[k] != _H:
                w = t.values[k]
                if (w in self.negators or w.endswith("n't")) and not self._exception_at(k, t):
                    return True
                seen += 1
            k -= 1
        return False

    def _exception_at(self, k: int, t: _Tokens) -> bool:
        """Return True if a negation exception ("nothing but", "can't thank") starts at ``k``."""
        for ex in self.negation_exceptions:
            if k + len(ex) <= len(t) and all(
                t.kinds[k + x] == _W and _word_match(ex[x], t.values[k + x]) for x in range(len(ex))
            ):
                return True
        return False

    def _event_after(self, m: _Match, t: _Tokens) -> bool:
        """Return True if an event word follows the phrase closely ("shocking attack")."""
        j, words = m.end, 0
        while j < len(t) and words < _EVENT_GAP + 1 and t.sentence[j] == t.sentence[m.start]:
            if t.kinds[j] == _H:
                return False
            if self.event_gate.match(t.values[j]):
                return True
            words += 1
            j += 1
        return False

    def _side(self, handle: str) -> str | None:
        """Return the side a handle written in a text names, or None: the handle as written
        (``lane.bsky.social``), else, for a Mastodon handle (``lane@police.social``) or a
        default Bluesky one (``lane.bsky.social``), its name (``lane``), the form a Mastodon
        account's local name or a Twitter-style key takes. Another domain's first label names
        no side (``lane.nytimes.com`` is not ``lane``)."""
        side = self.side_of.get(handle)
        if side is None and ("@" in handle or handle.endswith(".bsky.social")):
            side = self.side_of.get(_HANDLE_SHORT.split(handle, 1)[0])
        return side

    def _victim_handles(self, t: _Tokens) -> dict[int, str]:
        """Return {handle token: victim word} for handles right after a victim word."""
        out: dict[int, str] = {}
        for k, kind in enumerate(t.kinds):
            if kind != _H:
                continue
            end = k
            if end >= 1 and t.kinds[end - 1] == _W and t.values[end - 1] in _VICTIM_FILLERS:
                end -= 1  # "silencing our @inspector"
            if end < 1 or t.kinds[end - 1] != _W or not self.victim_gate.match(t.values[end - 1]):
                continue  # the word before the handle cannot end a victim phrase
            for v in self.victims:
                s = end - len(v)
                if s >= 0 and all(
                    t.kinds[s + x] == _W and _word_match(v[x], t.values[s + x])
                    for x in range(len(v))
                ):
                    out[k] = " ".join(t.values[s:end])
                    break
        return out

    def _group(self, k: int, t: _Tokens, victims: Mapping[int, str]) -> set[str]:
        """Return the handles of the group around token ``k`` ("@a and @b", "@a @b"), no victims."""
        members = {k}
        for step in (-1, 1):
            j = k + step
            while 0 <= j < len(t):
                if t.kinds[j] == _H:
                    members.add(j)
                elif not (t.kinds[j] == _W and t.values[j] in _JOINERS):
                    break
                j += step
        return {t.values[j] for j in members if j not in victims}

    def _aim(
        self, m: _Match, t: _Tokens, covered: list[bool], victims: Mapping[int, str]
    ) -> set[str] | None:
        """Return the handles a phrase is aimed at, or None when it is unaimed."""
        sid = t.sentence[m.start]
        words, j = 0, m.end
        # 1. a handle right after the phrase (at most _FOLLOW_GAP words on, no other phrase between)
        while j < len(t) and t.sentence[j] == sid and not covered[j]:
            if t.kinds[j] == _H:
                if j not in victims:
                    return self._group(j, t, victims)
            else:
                words += 1
                if words > _FOLLOW_GAP:
                    break
            j += 1
        # 2. the nearest handle before it in the same sentence
        j = m.start - 1
        while j >= 0 and t.sentence[j] == sid:
            if t.kinds[j] == _H and j not in victims:
                return self._group(j, t, victims)
            j -= 1
        return None

    def read(self, text: str) -> _Reading:
        """Return the phrase matches of ``text`` with their aims and the victims it names."""
        t = _tokenize(text)
        found: list[_Match] = []
        covered = [False] * len(t)
        i = 0
        while i < len(t):
            if t.kinds[i] == _T and t.values[i] in self.markers:
                side, pol = self.markers[t.values[i]]
                ph = _Phrase(("#" + t.values[i],), pol, "#" + t.values[i], RULE_MARKER)
                if self._negated(i, t):  # "not joining the #standwithlane crowd"
                    pol = -pol
                found.append(_Match(i, i + 1, ph, pol, frozenset({side})))
                covered[i] = True
                i += 1
                continue
            hit = self._phrase_at(i, t) if t.kinds[i] != _H else None
            if hit is None:
                i += 1
                continue
            ph, end = hit
            if not ph.polarity and i > 0 and t.values[i - 1] in _POSSESSIVE_2P:
                i = end  # "your statement": the addressee's words, not reporting language
                continue
            pol = -ph.polarity if ph.polarity and self._negated(i, t) else ph.polarity
            found.append(_Match(i, end, ph, pol))
            covered[i:end] = [True] * (end - i)
            i = end
        victims = self._victim_handles(t)
        for m in found:  # "shocking attack", "appalling violence": the event is judged, not a side
            if m.phrase.polarity < 0 and m.phrase.kind == RULE_LEXICON and self._event_after(m, t):
                m.aim = frozenset({"event"})
        for m in found:
            if m.aim is None and m.polarity:
                handles = self._aim(m, t, covered, victims)
                if handles:
                    m.aim = frozenset(self._side(h) or "other" for h in handles)
        # an unaimed phrase takes the aim of the nearest aimed phrase of the same polarity
        aimed = [m for m in found if m.aim is not None]
        for m in found:
            if m.aim is None and m.polarity:
                same = [a for a in aimed if a.polarity == m.polarity]
                if same:
                    m.aim = min(same, key=lambda a: (abs(a.start - m.start), a.start)).aim
        victim_word: dict[str, str] = {}
        for k in sorted(victims):
            side = self._side(t.values[k])
            if side is not None:
                victim_word.setdefault(side, victims[k])
        has_words = any(k in (_W, _T) for k in t.kinds)
        polar_cover = [False] * len(t)
        for m in found:
            if m.polarity:
                polar_cover[m.start : m.end] = [True] * (m.end - m.start)
        residual = " ".join(
            v for v, k, c in zip(t.values, t.kinds, polar_cover, strict=True) if k != _H and not c
        )
        event_word = next(
            (
                v
                for v, k, c in zip(t.values, t.kinds, polar_cover, strict=True)
                if k == _W and not c and self.event_gate.match(v)
            ),
            None,
        )
        worded = {s for s, k in zip(t.sentence, t.kinds, strict=True) if k in (_W, _T)}
        return _Reading(
            found,
            victim_word,
            has_words,
            residual,
            event_word,
            second_person=any(
                k == _W and v in _SECOND_PERSON for v, k in zip(t.values, t.kinds, strict=True)
            ),
            all_questions=bool(worded) and worded <= t.questions,
        )

    # -- scoring -----------------------------------------------------------------------------------
    def vader(self, text: str) -> float:
        """Return VADER's compound score of ``text`` without handles, URLs and '#'."""
        if not text.strip():
            return 0.0
        if self._vader is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            self._vader = SentimentIntensityAnalyzer()
        clean = _HANDLE_RE.sub(" ", _URL_RE.sub(" ", text)).replace("#", " ")
        return float(self._vader.polarity_scores(clean)["compound"])

    def by_score(self, score: float) -> str:
        if score >= self.pos:
            return _SUP
        if score <= self.neg:
            return _CRI
        return _NEU

    def score(self, text: str) -> dict[str, tuple[str, float, str]]:
        """Return ``{side: (stance, score, rule)}`` for the focal and the institution side."""
        self.text_vader = None
        if not isinstance(text, str) or not text.strip():
            return {side: (_NEU, 0.0, RULE_NO_TEXT) for side in _SIDES}
        r = self.read(text)
        polar = [m for m in r.matches if m.polarity]
        neutral = [m for m in r.matches if not m.polarity]
        inst_critique = [
            m for m in polar if m.polarity < 0 and m.aim and Target.INSTITUTION.value in m.aim
        ]
        cache: list[float] = []
        residual: dict[str, float] = {}

        def vader() -> tuple[str, float, str]:
            if not cache:
                cache.append(self.vader(text))
                self.text_vader = cache[0]
            return (self.by_score(cache[0]), cache[0], RULE_VADER)

        out: dict[str, tuple[str, float, str]] = {}
        for side in _SIDES:
            victim = side in r.victim_word
            # an unaimed critique does not hit a victim; an unaimed support phrase does
            applicable = [
                m
                for m in polar
                if (m.aim is not None and side in m.aim)
                or (m.aim is None and not (victim and m.polarity < 0))
            ]
            net = sum(m.polarity for m in applicable)
            if applicable and net:
                sign = 1 if net > 0 else -1
                deciding = min((m for m in applicable if m.polarity == sign), key=lambda m: m.start)
                out[side] = (
                    _SUP if sign > 0 else _CRI,
                    net / len(applicable),
                    f"{deciding.phrase.kind}:{deciding.phrase.label}",
                )
            elif applicable:  # support and critique cancel out: VADER decides
                out[side] = vader()
            elif victim and any(m.polarity < 0 for m in polar):
                out[side] = (_SUP, 1.0, f"{RULE_VICTIM}:{r.victim_word[side]}")
            elif side == Target.FOCAL.value and inst_critique:
                out[side] = (_SUP, 1.0, f"{RULE_TWO_TARGET}:{inst_critique[0].phrase.label}")
            elif polar:  # every phrase is aimed at others: the remaining words decide
                if "residual" not in residual:
                    residual["residual"] = self.vader(r.residual)
                c = residual["residual"]
                out[side] = self._news(r, (self.by_score(c), c, RULE_ELSEWHERE))
            elif neutral:
                out[side] = (_NEU, 0.0, f"{RULE_NEUTRAL}:{neutral[0].phrase.label}")
            elif not r.has_words:
                out[side] = (_NEU, 0.0, RULE_NO_TEXT)
            elif r.all_questions:  # a question with no stance phrase asks; VADER reads its topic
                c = vader()[1]
                out[side] = (_NEU, c, RULE_QUESTION)
            else:
                out[side] = self._news(r, vader())
        return out

    @staticmethod
    def _news(r: _Reading, decided: tuple[str, float, str]) -> tuple[str, float, str]:
        """Return neutral (rule ``event:<word>``) for a negative VADER reading of event news.

        VADER reads the words of the event ("killed", "attack"), not an evaluation of the
        account; a post that addresses its reader ("you", "your") keeps VADER's reading.
        """
        if decided[0] == _CRI and r.event_word is not None and not r.second_person:
            return (_NEU, decided[1], f"{RULE_EVENT}:{r.event_word}")
        return decided


# ---- parallel scoring of distinct texts ---------------------------------------------------------

_WORKER: _Analyser | None = None


def _init_worker(args: tuple) -> None:
    global _WORKER
    exit_with_parent()
    _WORKER = _Analyser(*args)


def _score_chunk(texts: Sequence[str]) -> list[tuple]:
    assert _WORKER is not None
    return [_flatten(_WORKER.score(t)) for t in texts]


def _score_chunk_vader(texts: Sequence[str]) -> list[tuple]:
    assert _WORKER is not None
    return [_score_with_vader(_WORKER, t) for t in texts]


def _score_with_vader(analyser: _Analyser, text: str) -> tuple:
    """:func:`_flatten` of the text's scores, then VADER's compound of the whole text (computed
    here when the rules did not need it; 0.0 for no text)."""
    row = _flatten(analyser.score(text))
    v = analyser.text_vader
    if v is None:
        v = analyser.vader(text) if isinstance(text, str) else 0.0
    return (*row, v)


def _flatten(res: Mapping[str, tuple[str, float, str]]) -> tuple:
    f, i = res[Target.FOCAL.value], res[Target.INSTITUTION.value]
    return (*f, *i)


#: Below this many distinct texts, scoring stays in the calling process (no pool start-up cost).
PARALLEL_MIN_TEXTS = 4000
#: Below this many distinct texts, scoring with ``meanwhile`` work leaves it a core: the workers
#: score in less time than it takes (the stance model's imports and load, ~1.3 CPU-s, against ~0.1
#: CPU-s per 1,000 texts), and a worker beside them would only slow it down.
MEANWHILE_MAX_TEXTS = 10_000


class Classifier:
    """Stance classifier for one study: the focal and institution handles, a lexicon, thresholds.

    Parameters
    ----------
    focal, institution : iterable of str
        Handles (normalised or not) of the focal account and of the institution.
    lexicon : Lexicon, optional
        Defaults to :func:`load_lexicon` ``()``.
    positive_threshold, negative_threshold : float
        VADER compound at or above / at or below which a text is supportive / critical.
    likes_count : bool
        Whether a like counts as endorsement, as a repost does.
    handles : mapping, optional
        ``{Bluesky key: "@handle"}`` for the sides' accounts keyed by DID, so the rules find
        them in texts, which name handles (:func:`netsupport.io.platforms.in_text`).

    Examples
    --------
    >>> c = Classifier(["inspector"], ["force"])
    >>> c.score_text("Thank you @force and @inspector for the help")["institution"]
    ('supportive', 1.0, 'lexicon:thank you')
    >>> c.score_text("@force suspending @inspector is a disgrace")["focal"]
    ('supportive', 1.0, 'victim:suspending')
    """

    def __init__(
        self,
        focal: Iterable[str],
        institution: Iterable[str] = (),
        lexicon: Lexicon | None = None,
        positive_threshold: float = 0.05,
        negative_threshold: float = -0.05,
        *,
        likes_count: bool = True,
        handles: Mapping[str, str] | None = None,
    ):
        if not negative_threshold < positive_threshold:
            raise NetsupportError(
                "stance thresholds: negative_threshold must be below positive_threshold, got "
                f"{negative_threshold} and {positive_threshold}"
            )
        self.focal = tuple(h for h in (normalise_handle(x) for x in focal) if h)
        self.institution = tuple(h for h in (normalise_handle(x) for x in institution) if h)
        self.lexicon = lexicon if lexicon is not None else load_lexicon()
        self.positive_threshold = float(positive_threshold)
        self.negative_threshold = float(negative_threshold)
        self.likes_count = bool(likes_count)
        from ..io.platforms import in_text  # (texts name a Mastodon account as @name)

        self._args = (
            self.lexicon,
            in_text(self.focal, handles),
            in_text(self.institution, handles),
            self.positive_threshold,
            self.negative_threshold,
        )
        self._local = _Analyser(*self._args)
        #: VADER's compound of each text by text, from the last :meth:`classify` with ``vader``
        self.text_vader: pd.Series | None = None

    def score_text(self, text: str) -> dict[str, tuple[str, float, str]]:
        """Return ``{side: (stance, score, rule)}`` for one text (see the module docstring)."""
        return self._local.score(text)

    def score_texts(
        self,
        texts: Sequence[str],
        workers: int | None = None,
        *,
        meanwhile: Callable[[], object] | None = None,
        vader: bool = False,
        keep_dir: str | Path | None = None,
    ) -> pd.DataFrame:
        """Score distinct texts towards both sides; one row per text, in the order given.

        Uses up to ``workers`` processes (default: all cores) when there are at least
        :data:`PARALLEL_MIN_TEXTS` texts, one fewer with ``meanwhile`` work and fewer than
        :data:`MEANWHILE_MAX_TEXTS` texts; results do not depend on the number of workers.
        ``meanwhile``: work for this process while the workers score (run in a thread once
        every worker has started, and joined before returning: no process is forked while it
        runs); not called when the texts are scored here. ``vader``: add a ``vader`` column,
        VADER's compound of each whole text (the stance model's feature), computed by the
        workers too. ``keep_dir``: a folder where the scores are kept, and read back when the same
        texts are scored with the same lexicon, handles, thresholds and code
        (:func:`netsupport.stance.predictions.rule_rows_key`; then nothing is scored here or in
        workers, and ``meanwhile`` is not called).

        Returns
        -------
        DataFrame
            Columns ``focal_stance, focal_score, focal_rule, institution_stance,
            institution_score, institution_rule`` (and ``vader``).
        """
        texts = list(texts)
        cols = [f"{side}_{what}" for side in _SIDES for what in ("stance", "score", "rule")]
        cols += ["vader"] if vader else []
        key = None
        if keep_dir is not None and texts:
            from .predictions import read_rule_rows, rule_rows_key, write_rule_rows

            key = rule_rows_key(repr(self._args), vader, texts)
            kept = read_rule_rows(keep_dir, key, cols)
            if kept is not None:
                return self._scored_frame(kept, cols, vader)
        workers = workers if workers is not None else (os.cpu_count() or 1)
        if workers > 1 and len(texts) >= PARALLEL_MIN_TEXTS:
            procs = workers
            if meanwhile is not None and len(texts) < MEANWHILE_MAX_TEXTS:
                procs = workers - 1  # (the meanwhile thread keeps this process's core busy)
            size = math.ceil(len(texts) / (procs * 4))
            chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
            with ProcessPoolExecutor(
                max_workers=procs, initializer=_init_worker, initargs=(self._args,)
            ) as pool:
                chunk_fn = _score_chunk_vader if vader else _score_chunk
                parts = pool.map(chunk_fn, chunks)  # (forks every worker: fork context)
                with _alongside(meanwhile):
                    rows = [row for part in parts for row in part]
        elif vader:
            rows = [_score_with_vader(self._local, t) for t in texts]
        else:
            rows = [_flatten(self._local.score(t)) for t in texts]
        if key is not None:
            write_rule_rows(keep_dir, key, cols, rows)
        return self._scored_frame(rows, cols, vader)

    @staticmethod
    def _scored_frame(rows: Sequence[tuple], cols: list[str], vader: bool) -> pd.DataFrame:
        """:meth:`score_texts`' frame of its rows."""
        out = pd.DataFrame(rows, columns=cols) if rows else pd.DataFrame(columns=cols)
        for side in _SIDES:
            out[f"{side}_score"] = out[f"{side}_score"].astype("float64")
        if vader:
            out["vader"] = out["vader"].astype("float64")
        return out

    def side_of(self, handles: pd.Series) -> pd.Series:
        """Return "focal", "institution" or <NA> for each handle."""
        return pd.Series(self._sides(handles), index=handles.index, dtype="string")

    def _sides(self, handles: pd.Series) -> np.ndarray:
        """:meth:`side_of` as an object array, None for no side (a focal handle that is an
        institution's too is focal)."""
        out = np.full(len(handles), None, dtype=object)
        out[handles.isin(self.institution).to_numpy(dtype=bool)] = Target.INSTITUTION.value
        out[handles.isin(self.focal).to_numpy(dtype=bool)] = Target.FOCAL.value
        return out

    def targeted(self, interactions: pd.DataFrame) -> np.ndarray:
        """Return which interactions target a focal or institution handle: the only rows
        :meth:`classify` can keep (a cheap first cut of a large table)."""
        handles = [*self.institution, *self.focal]
        return interactions[InteractionCol.TARGET].isin(handles).to_numpy(dtype=bool)

    def classify(
        self,
        interactions: pd.DataFrame,
        posts: pd.DataFrame,
        windows: Windows | None = None,
        workers: int | None = None,
        *,
        meanwhile: Callable[[], object] | None = None,
        texts: pd.Series | None = None,
        vader: bool = False,
        keep_dir: str | Path | None = None,
    ) -> pd.DataFrame:
        """Return the stance of every interaction towards the focal account or the institution.

        Only interactions whose target is a focal or institution handle are kept (follows are
        not interactions with a stance, and an account's own side talking to itself is dropped).
        Each distinct text is scored once.

        Parameters
        ----------
        interactions : DataFrame
            Canonical interactions (marker interactions included if wanted).
        posts : DataFrame
            Canonical posts; ``text`` is looked up by ``post_id``.
        windows : Windows, optional
            Fills the ``window`` column (<NA> outside the windows, or everywhere if not given).
        workers, meanwhile, keep_dir
            As :meth:`score_texts` takes them.
        texts : Series, optional
            ``_texts_by_post(posts)`` when the caller has it (else made here).
        vader : bool
            Also keep VADER's compound of every text scored, by text, in :attr:`text_vader`
            (the stance model's feature: computed by the scoring workers, not again later).

        Returns
        -------
        DataFrame
            :data:`STANCE_COLUMNS`, sorted by created_at, post_id, target_side, kind, source,
            target.
        """
        I = InteractionCol  # noqa: E741 - short alias for the column enum
        df = interactions[[I.SOURCE, I.TARGET, I.KIND, I.POST_ID, I.CREATED_AT]]
        # only rows aimed at a side are classified: cut to them before the per-row work below
        # (at 10^6 interactions about one in six)
        df = df[self.targeted(df)].copy()
        df = df[df[I.KIND].astype("string") != IKind.FOLLOW.value]
        if not self.likes_count:  # ([stance] likes_count = false: likes are not stances)
            df = df[df[I.KIND].astype("string") != IKind.LIKE.value]
        side = self._sides(df[I.TARGET])
        src_side = self._sides(df[I.SOURCE])
        keep = pd.notna(side) & (pd.isna(src_side) | (src_side != side))
        df = df[keep].copy()
        # (object columns, as the table is returned: not inferred as Arrow strings and back)
        df["target_side"] = pd.Series(side[keep], index=df.index, dtype=object)
        df[I.CREATED_AT] = pd.to_datetime(df[I.CREATED_AT], utc=True)
        if windows is not None and len(df):
            df["window"] = assign_windows(df[I.CREATED_AT], windows).to_numpy()
        else:
            df["window"] = pd.array([pd.NA] * len(df), dtype="string")
        df["window"] = df["window"].astype("string")

        text = _texts_by_post(posts) if texts is None else texts
        post_text = df[I.POST_ID].map(text) if len(df) else pd.Series([], dtype=object)
        codes, uniques = pd.factorize(post_text.fillna(""), sort=False)
        scored = self.score_texts(
            list(uniques), workers=workers, meanwhile=meanwhile, vader=vader, keep_dir=keep_dir
        )
        if vader:
            self.text_vader = pd.Series(
                scored["vader"].to_numpy(dtype="float64"), index=pd.Index(uniques, dtype=object)
            )
        is_focal = (df["target_side"] == Target.FOCAL.value).to_numpy(dtype=bool)
        stance = np.empty(len(df), dtype=object)
        score = np.zeros(len(df), dtype="float64")
        rule = np.empty(len(df), dtype=object)
        for side_name, mask in (
            (Target.FOCAL.value, is_focal),
            (Target.INSTITUTION.value, ~is_focal),
        ):
            if not mask.any():
                continue
            c = codes[mask]
            stance[mask] = scored[f"{side_name}_stance"].to_numpy(dtype=object)[c]
            score[mask] = scored[f"{side_name}_score"].to_numpy()[c]
            rule[mask] = scored[f"{side_name}_rule"].to_numpy(dtype=object)[c]
        repost = (df[I.KIND].astype("string") == IKind.REPOST.value).to_numpy(dtype=bool)
        stance[repost] = _SUP
        score[repost] = 1.0
        rule[repost] = RULE_REPOST
        like = (df[I.KIND].astype("string") == IKind.LIKE.value).to_numpy(dtype=bool)
        stance[like] = _SUP  # a like endorses like a repost (METHODS.md, likes)
        score[like] = 1.0
        rule[like] = RULE_LIKE
        # a like the export gives no time for (Mastodon's likes.json): in no window; its own
        # rule, so that metrics.json and the report count them (stance.by_rule)
        rule[like & df[I.CREATED_AT].isna().to_numpy(dtype=bool)] = RULE_LIKE_UNTIMED
        df["stance"] = pd.Series(stance, index=df.index, dtype=object)
        df["score"] = score
        df["rule"] = pd.Series(rule, index=df.index, dtype=object)
        return _sorted_stance(df)


@contextmanager
def _alongside(work: Callable[[], object] | None) -> Iterator[None]:
    """Run ``work`` in a thread during the ``with`` block; wait for it at the end (its
    exceptions are left to the caller's own later call of the same work to raise)."""
    if work is None:
        yield
        return
    thread = threading.Thread(target=_quietly, args=(work,), name="netsupport-meanwhile")
    thread.start()
    try:
        yield
    finally:
        thread.join()


def _quietly(work: Callable[[], object]) -> None:
    with suppress(Exception):  # (the main thread's own later call reports it)
        work()


def _texts_by_post(posts: pd.DataFrame, post_ids: pd.Series | None = None) -> pd.Series:
    """Return the text of each post by post id (the first row of a repeated id); with
    ``post_ids``, of those posts only (the same text for each of them, without converting
    and indexing every post's)."""
    if posts is None or posts.empty:
        return pd.Series([], dtype=object)
    p = posts[[PostCol.POST_ID, PostCol.TEXT]]
    if post_ids is not None:
        p = p[p[PostCol.POST_ID].isin(post_ids).to_numpy(dtype=bool)]
    p = p.drop_duplicates(PostCol.POST_ID, keep="first")
    return pd.Series(p[PostCol.TEXT].to_numpy(dtype=object), index=p[PostCol.POST_ID].to_numpy())


def _sorted_stance(df: pd.DataFrame) -> pd.DataFrame:
    """Return the stance rows in a fixed order: created_at, post_id, side, kind, source, target."""
    ts = pd.to_datetime(df["created_at"], utc=True)
    t = ts.astype("datetime64[ns, UTC]").array.asi8.copy() if len(df) else np.zeros(0, np.int64)
    t[ts.isna().to_numpy()] = np.iinfo(np.int64).min
    # the other keys order only rows of the same time: ranked among those rows alone (the same
    # relative order as ranks over every row, for a fraction of the string sorting)
    tied = pd.Series(t).duplicated(keep=False).to_numpy(dtype=bool)
    keys = []
    for col in ("target", "source", "kind", "target_side", "post_id"):
        codes = np.zeros(len(df), dtype=np.int64)
        if tied.any():
            values = df[col].iloc[np.flatnonzero(tied)]
            codes[tied], _ = pd.factorize(values, sort=True, use_na_sentinel=True)
        keys.append(codes)  # missing first (-1), then in sorted order
    keys.append(t)
    out = df[STANCE_COLUMNS].iloc[np.lexsort(keys)].reset_index(drop=True)
    for col in ("post_id", "source", "target", "kind", "target_side", "window", "stance", "rule"):
        values = out[col].to_numpy(dtype=object)  # (no copy of an object column)
        missing = pd.isna(values)
        if missing.any():  # None for every missing value, as to_numpy(na_value=None) gives
            values = values.copy()
            values[missing] = None
        out[col] = pd.Series(values, dtype=object)
    return out

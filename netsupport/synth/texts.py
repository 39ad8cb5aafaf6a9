"""Texts of the synthetic case: the template pools and their rendering into posts with entities."""

from __future__ import annotations

import array
import re
import string

import numpy as np

from ..schema import Role
from .config import (
    _CLI,
    _CRI,
    _HOS,
    _K_POST,
    _K_QUOTE,
    _K_REPLY,
    _K_REPOST,
    _MED,
    _NEU,
    _POL,
    _PUB,
    _SU,
    _SUP,
    Case,
)

# ------------------------------------------------------------------------------------------------
# Texts. {F} focal handle, {I} institution handle, {A} another account, {T} the campaign hashtag.
# Keys: <frame>.<phase>.<stance>; phases b(aseline) c(risis) a(fter); stances sup, neu, cri.
# ------------------------------------------------------------------------------------------------

_POOLS: dict[str, list[str]] = {
    # original posts that mention the focal account
    "F.b.sup": [
        "Really useful thread from {F} on section 136 detentions",
        "{F} talks more sense about mental health than most of Whitehall. Worth a follow",
        "Thank you {F} for explaining street triage so clearly",
        "Great to hear {F} speak at the conference today, inspiring stuff",
        "If you want to understand policing and mental health, follow {F}",
        "{F} is a credit to Northshire. Brilliant work on crisis care",
    ],
    "F.b.neu": [
        "Anyone know if {F} is speaking at the Leeds event next week?",
        "{F} how many people were held in cells under s136 last year?",
        "Reading {F}'s blog on place of safety figures",
        "{F} is the street triage pilot running at weekends too?",
        "{F} do you have the January figures yet?",
    ],
    "F.b.cri": [
        "{F} should stick to policing and leave psychiatry to doctors",
        "Bit tired of {F} lecturing everyone on here",
        "{F} another day, another moan about the NHS. Change the record",
    ],
    "F.c.sup": [
        "Stand with {F}. Honest voices like his are what policing needs",
        "Bring back {F}! Best thing about police twitter {T}",
        "{F} did nothing wrong. Let him tweet {T}",
        "Not a disgrace at all: {F} is the most honest voice in policing",
        "Missing {F} already. He helped my brother when nobody else would",
        "Thank you {F} for everything you have done for people in crisis {T}",
        "Silencing {F} helps nobody. He is a credit to the force",
        "No shame in telling the truth, {F}. We are behind you {T}",
        "Can't believe they gagged {F}. Absolutely behind him {T}",
        "{F} we are with you {T}",
        "{F} has done more for mental health than any campaign {T}",
        "Nothing unprofessional about {F} explaining s136 to the public {T}",
    ],
    "F.c.neu": [
        "What happened to {F}? His account has gone quiet",
        "Does anyone know why {F} has stopped tweeting?",
        "Is {F} actually suspended or just taking a break?",
        "Following the story about {F} and the force's social media policy",
        "So is {F} suspended from work or just from twitter?",
        "Reading up on the {F} story before commenting",
    ],
    "F.c.cri": [
        "Good riddance {F}. Police officers should not be on twitter",
        "{F} should resign, completely unprofessional",
        "About time someone shut {F} up",
        "{F} is a disgrace to the uniform",
        "Not sorry to see {F} go quiet. Rules apply to everyone",
        "Shame on {F} for airing the force's business in public",
        "{F} thought he was bigger than the job. He isn't",
    ],
    "F.a.sup": [
        "Welcome back {F}! Twitter was poorer without you",
        "Great to see {F} back where he belongs {T}",
        "So glad {F} is back. Thank you for not giving up",
        "{F} back and straight into a brilliant thread on crisis care",
        "Good to have you back {F}",
    ],
    "F.a.neu": [
        "{F} is back on twitter after the suspension, force confirms",
        "Did {F} get any conditions on his return?",
        "{F} any news on the street triage review?",
        "Has {F} said anything about the suspension yet?",
    ],
    "F.a.cri": [
        "Shame {F} is back. Nothing learned",
        "{F} back already? Unbelievable",
        "{F} still thinks he is above the rules",
    ],
    # news by media accounts (neutral towards both targets)
    "N.c.neu": [
        "Northshire inspector {F} suspended from Twitter, force confirms review",
        "Police inspector {F} ordered off Twitter after row over mental health tweets",
        "Supporters start {T} campaign after officer {F} is suspended from Twitter",
        "Force statement on inspector {F}'s Twitter suspension expected today",
        "Inspector {F} has not tweeted since Friday. Force says review is under way",
    ],
    "N.a.neu": [
        "Inspector {F} back on Twitter after five-day suspension",
        "Review ends: inspector {F} returns to Twitter, force says",
    ],
    # two-target posts: FI.<phase>.<focal stance>.<institution stance>
    "FI.b.sup.neu": ["{I} is {F} still leading the triage pilot? Great scheme"],
    "FI.b.neu.neu": [
        "{I} is {F} the right contact for the triage pilot?",
        "{I} does {F} run the mental health training now?",
    ],
    "FI.b.sup.sup": [
        "Proud of {I} and {F} for the street triage results",
        "{I} lucky to have {F}, the s136 work is brilliant",
    ],
    "FI.b.cri.neu": ["{I} does {F} have clearance to tweet all this?"],
    "FI.c.sup.cri": [
        "Shame on {I} for silencing {F}",
        "{I} bring back {F}. Disgraceful decision {T}",
        "{I} why gag {F}? He is the best thing about you",
        "Disgusted with {I} for suspending {F} {T}",
        "{I} you should be ashamed. {F} did more for mental health than your comms team",
        "{I} suspending {F} is an own goal. Embarrassing",
    ],
    "FI.c.cri.sup": [
        "Right call {I}, {F} forgot who he works for",
        "Well done {I} for finally reining in {F}",
        "{I} good decision on {F}. Officers should not be on twitter",
    ],
    "FI.c.neu.neu": [
        "{I} have you suspended {F}'s account?",
        "{I} when will {F} be back on twitter?",
        "Force {I} confirms review of inspector {F}'s tweets",
    ],
    "FI.c.sup.neu": [
        "{I} any update on {F}? We miss him",
        "{I} is {F} ok? Please pass on our best wishes",
    ],
    "FI.c.cri.neu": ["{I} will {F} face a misconduct hearing? He should"],
    "FI.c.neu.cri": ["{I} your statement about {F} explains nothing"],
    "FI.c.neu.sup": ["{I} fair enough to review {F}'s account, what are the rules?"],
    "FI.c.sup.sup": ["{I} thank you for reviewing {F}'s case quickly, he is a good officer"],
    "FI.c.cri.cri": ["{I} and {F} both as bad as each other"],
    "FI.a.sup.sup": [
        "Thank you {I} for bringing {F} back",
        "{I} good to see sense in the end. Welcome back {F}",
    ],
    "FI.a.sup.cri": [
        "{I} glad {F} is back, but you owe him an apology",
        "{I} never should have silenced {F} in the first place",
    ],
    "FI.a.sup.neu": ["{I} great that {F} is back, will the review be published?"],
    "FI.a.neu.neu": ["{I} has {F}'s review been published?"],
    "FI.a.cri.sup": ["{I} fair play for the review. {F} still has questions to answer"],
    "FI.a.cri.neu": ["{I} what were the terms of {F}'s return?"],
    "FI.a.neu.cri": ["{I} so what was the {F} suspension for then?"],
    "FI.a.neu.sup": ["{I} reasonable outcome on {F}'s account"],
    "FI.a.cri.cri": [
        "{I} and {F} deserve each other",
        "{I} shame you let {F} back on so soon",
    ],
    # marker-only posts: the campaign hashtag without a handle
    "T.c.sup": [
        "{T} because honest coppers should be heard",
        "Proud to {T} today",
        "Adding my voice: {T}",
        "{T} - he kept my dad out of a cell",
    ],
    "T.c.neu": ["What is {T} about?", "Seeing {T} trending, what happened?"],
    "T.c.cri": ["Not joining the {T} crowd. Rules are rules", "{T}? No thanks, he broke the rules"],
    # replies to the focal account's own posts (the reply prefix names him)
    "Fr.b.sup": [
        "brilliant, thank you for sharing this",
        "spot on as always",
        "this is exactly what we need more of",
        "thank you, this helped me understand my rights",
        "great work, keep it up",
    ],
    "Fr.b.neu": [
        "do you have the figures for last year?",
        "which areas does the pilot cover?",
        "is there a link to the report?",
        "how does this work out of hours?",
    ],
    "Fr.b.cri": [
        "with respect, this is not your job",
        "not sure this is for a serving officer to say",
        "tweet less, patrol more",
    ],
    "Fr.c.sup": [
        "we miss you, come back soon",
        "thinking of you. So many people behind you",
        "hope you are ok. Stay strong",
        "you did nothing wrong. We are with you",
        "thank you for everything, see you soon",
    ],
    "Fr.c.neu": [
        "are you ok? Your account has gone quiet",
        "is it true you have been suspended?",
        "any idea when you are back?",
    ],
    "Fr.c.cri": [
        "maybe think before you tweet next time",
        "this is why you got suspended",
        "no loss. Rules are rules",
    ],
    "Fr.a.sup": [
        "welcome back! Missed your tweets",
        "so good to have you back",
        "thank you for coming back, we need you",
    ],
    "Fr.a.neu": ["what happens now?", "are you allowed to talk about it?", "any conditions?"],
    "Fr.a.cri": ["did not learn much then", "back to lecturing us already"],
    # replies to a proxy's post (prefix names the proxy and the focal account)
    "Fx.c.sup": [
        "well said, we are all behind him",
        "thank you for passing this on. Stand with him",
        "brilliant. Please tell him we miss him {T}",
        "thanks for keeping us posted, give him our best",
    ],
    "Fx.c.neu": ["any idea when he is back?", "is he allowed to work meanwhile?"],
    "Fx.c.cri": ["he should have thought of that before tweeting"],
    # quote bodies on the focal account's own posts
    "Fq.b.sup": ["Worth reading", "This is why he is worth following", "Important thread"],
    "Fq.c.sup": [
        "This is why we need him back {T}",
        "Exactly the kind of tweet they want to silence",
        "Read this and tell me he should be gagged",
    ],
    "Fq.a.sup": ["Good to see this again", "He is back and on form"],
    # institution: original posts mentioning it
    "I.b.sup": [
        "Thanks {I} for the quick response last night",
        "Well done {I} on the arrests in Eastfield",
        "{I} great work at the match today",
        "Thank you {I}, the officer who came round was lovely",
    ],
    "I.b.neu": [
        "{I} is the A61 still closed?",
        "{I} how do I report a lost wallet?",
        "{I} any news on the Eastfield burglaries?",
        "{I} is there an open day this year?",
        "{I} what number do I call for a non-emergency?",
    ],
    "I.b.cri": [
        "{I} waited three hours for someone to turn up. Not good enough",
        "{I} still no reply to my complaint. Shocking service",
        "{I} why is nobody answering 101?",
        "{I} speeding on Mill Lane every night and you do nothing",
    ],
    "I.c.sup": [
        "{I} rules are rules, right decision",
        "Backing {I} on this one. Officers must follow policy",
        "{I} tough call but the correct one",
    ],
    "I.c.neu": [
        "{I} when will the review be finished?",
        "{I} can you confirm the inspector's account is suspended?",
        "{I} is there a social media policy we can read?",
    ],
    "I.c.cri": [
        "Shame on {I}",
        "{I} this is a disgrace",
        "{I} should be ashamed of yourselves",
        "Who runs {I}'s comms? Embarrassing",
        "Lost all respect for {I} this week",
        "{I} silencing your best officer. Well done, really",
        "{I} you have just lost a lot of goodwill",
    ],
    "I.a.sup": [
        "{I} good to see common sense in the end",
        "{I} thanks for sorting it out",
    ],
    "I.a.neu": [
        "{I} any update on the social media review?",
        "{I} will the review be published?",
    ],
    "I.a.cri": [
        "{I} still waiting for an apology",
        "{I} that whole episode was a disgrace",
    ],
    # replies to the institution's own posts
    "Ir.b.sup": ["great work, thank you", "well done all involved", "thank you for the update"],
    "Ir.b.neu": ["is this still ongoing?", "which road is it?", "any description?"],
    "Ir.b.cri": ["and yet nobody came when I called", "about time", "too little too late"],
    "Ir.c.sup": [
        "right decision, officers must follow policy",
        "fully support you on this",
        "sensible, thank you",
    ],
    "Ir.c.neu": [
        "when will the review finish?",
        "is he suspended from work too?",
        "what is the policy exactly?",
    ],
    "Ir.c.cri": [
        "this statement is a disgrace",
        "you should be ashamed",
        "pathetic. Bring him back",
        "absolute shambles. Reinstate him now",
        "nobody believes this",
        "shameful way to treat your best officer",
        "you have lost my trust",
    ],
    "Ir.a.sup": ["thank you for resolving this", "good outcome"],
    "Ir.a.neu": ["will the review be published?", "what changes now?"],
    "Ir.a.cri": ["still waiting for an apology", "never should have happened"],
    # the focal account's own posts
    "own.focal": [
        "Street triage team out again tonight. Two people kept out of cells",
        "Section 136 figures for January: cells used twice, down from twenty",
        "Spent the morning with the crisis team at Eastfield. Brilliant people",
        "Mental health is everyone's business, including the police",
        "Night shift done. Thanks to everyone who helped",
        "Blog post: why a police cell is no place of safety",
        "Long day, good outcome. Proud of the team",
        "A&E, ambulance and police all in one room today. Progress",
        "Question I get asked most: can police take you to hospital? Thread",
    ],
    "own.focal.last": ["Meeting with the bosses this morning. Wish me luck"],
    "own.focal.return": [
        "I'm back. Thank you all for the support, it meant more than I can say",
    ],
    "own.focal.after": [
        "Back to work. Lots to catch up on",
        "Thank you again for every message. Now, about section 136",
        "Street triage update coming tomorrow",
        "Good to be back on shift",
    ],
    "own.focal.reply": [
        "thanks, will do",
        "good point, I'll look into it",
        "cheers, see you on Thursday",
        "agree entirely",
    ],
    # the institution's own posts
    "own.inst": [
        "Appeal for witnesses after a collision on the A61 near Eastfield",
        "Officers arrested two men in Westbrook last night",
        "Road closed: the B6102 is shut both ways after a collision",
        "Have you seen this man? Please call 101",
        "Thank you to everyone who came to today's open day",
        "Our officers will be at the market tomorrow, come and say hello",
    ],
    "own.inst.statement": [
        "Statement: we are aware of comments about an officer's use of social media. "
        "The account is suspended while we review",
        "Update: the review of an officer's social media use is ongoing. No further comment",
        "We have read your comments and will respond in due course",
    ],
    "own.inst.restored": [
        "Statement: following a review the officer's social media account is restored",
    ],
    # the proxies' crisis posts (supportive of the focal account)
    "proxy.0": [
        "Spoke to {F} today. He is fine and says thank you for all the support {T}",
        "{F} asked me to pass on his thanks. He cannot reply at the moment {T}",
        "Message from {F}: keep talking about mental health, that's what matters {T}",
        "Keep the support coming for {F} {T}. He reads every message",
        "{F} will be back. Until then I'll share his work here {T}",
    ],
    "proxy.1": [
        "His work with our crisis team kept people out of cells. {F} deserves better {T}",
        "Sharing for {F}: the street triage figures he was due to post {T}",
        "From {F}, via me: thank you, and look after each other {T}",
        "Nurses across Northshire stand with {F} {T}",
    ],
    # everyday chatter by community ({A}: someone they follow)
    "chat.police": [
        "{A} cracking job tonight, thanks for the backup",
        "{A} see you at briefing",
        "{A} good result on that job yesterday",
        "Cheers {A}, will pass it on to the team",
        "{A} kettle's on at the station",
    ],
    "chat.clinicians": [
        "{A} brilliant session on crisis care today",
        "{A} thanks for the referral advice",
        "{A} agree, beds are the real problem",
        "Interesting paper shared by {A} on early intervention",
    ],
    "chat.service_users": [
        "{A} thank you for listening today, it helped",
        "{A} thinking of you, hope today is a better day",
        "{A} the carers group meets Thursday if you fancy it",
        "{A} sending hugs",
    ],
    "chat.media": [
        "{A} can we talk for tomorrow's piece?",
        "{A} good spot, we'll follow it up",
        "Nice story from {A} on the council budget",
        "{A} are you at the court today?",
    ],
    "chat.public": [
        "{A} did you see the match last night?",
        "{A} ha, classic",
        "{A} happy birthday!",
        "{A} ring road is gridlocked again",
        "{A} pub quiz Friday?",
    ],
    "chat.hostile": [
        "{A} told you, nobody listens round here",
        "{A} same old story",
        "{A} they never learn",
    ],
    "chat.cy": ["Bore da {A}!", "Diolch {A}", "{A} wela i di nos Wener"],
    "reply.any": [
        "agreed",
        "thanks, will do",
        "ha! brilliant",
        "so true",
        "see you there",
        "nice one",
        "good to hear",
        "thank you",
    ],
    "quote.any": ["Worth a read", "This!", "Important", "Agree with every word", "Ha"],
    "plain.police": [
        "Long shift done. Home time",
        "Busy night in the custody suite",
        "Proud to serve Northshire",
        "Training day. Coffee needed",
    ],
    "plain.clinicians": [
        "New paper on crisis care pathways out today",
        "Ward round done, time for lunch",
        "Another night with no beds in the county",
    ],
    "plain.service_users": [
        "Good day today. Small steps",
        "Carers week plans are coming together",
        "Rough night, better morning",
    ],
    "plain.media": [
        "Council budget vote tonight, live updates from 7pm",
        "Our front page tomorrow",
        "Weather warning for Northshire this weekend",
    ],
    "plain.public": [
        "Snow again. Brilliant",
        "Best chippy in Northshire? Go",
        "Monday again",
        "Tea or coffee?",
    ],
    "plain.hostile": ["Typical Northshire", "Nothing works in this county"],
    "noise": ["\U0001f642", "lol", "...", "\U0001f44d\U0001f44d", "zzz", "https://t.co/Qx81mTzAke"],
}
_LANG_OF_POOL = {"noise": "und", "chat.cy": "cy"}
_TAG_VARIANTS = ("#StandWithLane", "#standwithlane", "#StandwithLane", "#STANDWITHLANE")


def _compile_pools() -> tuple[list[str], list[str], dict[str, np.ndarray]]:
    texts: list[str] = []
    langs: list[str] = []
    pools: dict[str, np.ndarray] = {}
    for key in sorted(_POOLS):
        start = len(texts)
        for t in _POOLS[key]:
            texts.append(t)
            langs.append(_LANG_OF_POOL.get(key, "en"))
        pools[key] = np.arange(start, len(texts), dtype=np.int32)
    return texts, langs, pools


_TEXTS, _TEXT_LANG, _POOL_IDS = _compile_pools()
_STANCE_KEY = {_NEU: "neu", _SUP: "sup", _CRI: "cri"}
_PHASE = "bca"


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Names for handles and display names: common first names and invented surnames.
_FIRST = _words(
    "amy alex anna ben beth carl cath chris dan dave ellie emma fay gary gemma hannah ian jack "
    "jade james jane jen joe jon kate kim lee liam lisa lucy mark matt mel mike nat neil nick "
    "olly paul pete rach rob ruth ryan sam sara sean simon sophie steve sue tom tony vicky will "
    "zoe abdul aisha bilal imran nadia omar priya raj sunil yusuf"
)
_SUR_A = _words(
    "ash bel cor dun el fen gar hal ket lor mar nor pen quil ros sel tam ul ver wyn yar bram "
    "cal dor fal"
)
_SUR_B = ["a", "e", "i", "o", ""]
_SUR_C = _words("by wick ton more field ridge stow hurst cott ley worth den ford holm shaw brook")
_TOWNS = ("northshire", "eastfield", "westbrook", "millford", "shire", "nshire")
_OUTLETS = ("echo", "news", "post", "fm", "live", "today", "mail", "tv", "radio", "herald")

_BIOS: dict[tuple[int, str], list[str]] = {
    (_POL, Role.PROFESSIONAL.value): [
        "Police officer in Northshire. Views my own",
        "Response sergeant. Tweets are personal",
        "PCSO, Eastfield neighbourhood team",
        "Detective constable. Coffee and paperwork",
        "Police inspector, Westbrook. RT is not endorsement",
    ],
    (_POL, Role.INSTITUTION.value): [
        "Official account of a Northshire Police team. Not monitored 24/7, dial 999 in an "
        "emergency",
    ],
    (_CLI, Role.PROFESSIONAL.value): [
        "Mental health nurse. Views my own",
        "Consultant psychiatrist, Northshire",
        "Approved mental health professional (AMHP)",
        "Crisis team nurse and occasional runner",
        "Clinical psychologist working in acute care",
    ],
    (_CLI, Role.INSTITUTION.value): [
        "Official account of Northshire Mental Health NHS Trust",
    ],
    (_SU, Role.CITIZEN.value): [
        "Carer for my son. Mental health campaigner",
        "Living with bipolar. Service user voice",
        "Peer supporter and tea drinker",
        "Mum, carer, survivor",
        "Mental health service user. Still here",
    ],
    (_MED, Role.MEDIA.value): [
        "News from across Northshire, every day",
        "Northshire's local radio station. News on the hour",
        "The county's weekly paper. Tips welcome",
    ],
    (_MED, Role.JOURNALIST.value): [
        "Reporter at a Northshire newspaper. DMs open",
        "Journalist covering crime and courts",
        "Freelance journalist. Health and social care",
        "Broadcast journalist, local radio",
    ],
    (_PUB, Role.CITIZEN.value): [
        "Dad. Football. Coffee",
        "Northshire born and bred",
        "Runner, reader, moaner",
        "Just here for the dogs",
        "",
        "Teacher. Tweets my own",
    ],
    (_PUB, Role.JOURNALIST.value): ["Freelance writer and journalist"],
    (_HOS, Role.CITIZEN.value): [
        "Tell it like it is",
        "No time for do-gooders",
        "Northshire taxpayer. Fed up",
    ],
}


# ------------------------------------------------------------------------------------------------
# Texts and entities
# ------------------------------------------------------------------------------------------------

_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _tco(post_id: int) -> str:
    """A fixed, made-up t.co short link for a post id."""
    x = (post_id * 2654435761) % (62**10)
    out = []
    for _ in range(10):
        x, r = divmod(x, 62)
        out.append(_B62[r])
    return "https://t.co/" + "".join(out)


def _compile_template(text: str) -> list[tuple[str, str | None, tuple[tuple[int, int], ...]]]:
    """Split a template into (literal, placeholder, URL spans in the literal) pieces."""
    pieces = []
    for literal, name, _, _ in string.Formatter().parse(text):
        urls = tuple((m.start(), m.end()) for m in _URL_IN_TEXT.finditer(literal))
        if "@" in literal or "#" in literal:
            raise AssertionError(f"template literal with a handle or hashtag: {text!r}")
        pieces.append((literal, name, urls))
    return pieces


_URL_IN_TEXT = re.compile(r"https://t\.co/\w+")
_COMPILED = [_compile_template(t) for t in _TEXTS]


def _render(posts: dict[str, np.ndarray], handles: list[str]) -> tuple[list[str], _Entities]:
    """Return the text and the entities of every post (references point to earlier posts).

    Entities are computed while the text is assembled (offsets in code points, as Twitter
    counts them): a handle substituted into a template or a reply prefix is a mention, the
    campaign hashtag a hashtag, a t.co link a URL. A repost is ``RT @author: `` and the
    original text, cut at 140 characters with an ellipsis; entities the cut breaks are dropped.
    """
    n = len(posts["t"])
    texts: list[str] = [""] * n
    ref_all = posts["ref"]
    ref_author_all = np.where(ref_all >= 0, posts["author"][np.maximum(ref_all, 0)], -1)
    at = ["@" + h for h in handles]
    counts = array.array("q", bytes(8 * n))
    e_kind, e_start, e_end, e_val = (array.array("q") for _ in range(4))
    offsets = array.array("q", [0])

    def add(k: int, a: int, b: int, v: int) -> None:
        e_kind.append(k)
        e_start.append(a)
        e_end.append(b)
        e_val.append(v)

    chunk = 1 << 18  # per-post columns as Python lists, one chunk at a time (memory)
    for c0 in range(0, n, chunk):
        c1 = min(n, c0 + chunk)
        kind = posts["kind"][c0:c1].tolist()
        ref = ref_all[c0:c1].tolist()
        ref_author = ref_author_all[c0:c1].tolist()
        mention = posts["mention"][c0:c1].tolist()
        tpl = posts["tpl"][c0:c1].tolist()
        tag = posts["tag"][c0:c1].tolist()
        ids = posts["id"][c0:c1].tolist()
        for j in range(c1 - c0):
            i = c0 + j
            k = kind[j]
            before = len(e_kind)
            if k == _K_REPOST:
                r = ref[j]
                head = at[ref_author[j]]
                pre = "RT " + head + ": "
                body = texts[r]
                text = pre + body
                cut = len(text) if len(text) <= 140 else 139
                if cut < len(text):
                    text = text[:139] + "\u2026"
                add(_E_MENTION, 3, 3 + len(head), ref_author[j])
                shift = len(pre)
                for q in range(offsets[r], offsets[r + 1]):
                    if e_end[q] + shift <= cut:
                        add(e_kind[q], e_start[q] + shift, e_end[q] + shift, e_val[q])
                texts[i] = text
            else:
                parts: list[str] = []
                pos = 0
                if k == _K_REPLY:
                    a = ref_author[j]
                    add(_E_MENTION, 0, len(at[a]), a)
                    parts.append(at[a])
                    pos = len(at[a])
                    m = mention[j]
                    if m >= 0:
                        add(_E_MENTION, pos + 1, pos + 1 + len(at[m]), m)
                        parts.append(" " + at[m])
                        pos += 1 + len(at[m])
                    parts.append(" ")
                    pos += 1
                for literal, name, urls in _COMPILED[tpl[j]]:
                    if literal:
                        for a, b in urls:
                            add(_E_URL, pos + a, pos + b, -1)
                        parts.append(literal)
                        pos += len(literal)
                    if name is None:
                        continue
                    if name == "T":
                        value = _TAG_VARIANTS[tag[j]]
                        add(_E_HASHTAG, pos, pos + len(value), -1)
                    else:
                        who = 0 if name == "F" else 1 if name == "I" else mention[j]
                        if who < 0:
                            continue
                        value = at[who]
                        add(_E_MENTION, pos, pos + len(value), who)
                    parts.append(value)
                    pos += len(value)
                if k == _K_QUOTE:
                    url = _tco(ids[j])
                    add(_E_URL, pos + 1, pos + 1 + len(url), -1)
                    parts.append(" " + url)
                texts[i] = "".join(parts)
            counts[i] = len(e_kind) - before
            offsets.append(len(e_kind))
    ent = _Entities.from_arrays(
        texts,
        np.frombuffer(counts, dtype=np.int64),
        np.frombuffer(e_kind, dtype=np.int64).astype(np.int8),
        np.frombuffer(e_start, dtype=np.int64).astype(np.int32),
        np.frombuffer(e_end, dtype=np.int64).astype(np.int32),
        np.frombuffer(e_val, dtype=np.int64).copy(),
    )
    return texts, ent


_ENTITY_RE = re.compile(
    r"(?<![\w@])@(?P<m>\w{1,20})|(?<![\w#&])#(?P<h>\w+)|(?P<u>https://t\.co/\w+)"
)
_E_MENTION, _E_HASHTAG, _E_URL = 0, 1, 2


class _Entities:
    """Mentions, hashtags and URLs of every post, flat (CSR) so that 10^7 posts fit in memory.

    Offsets are code points, as Twitter counts them. For a mention ``value`` is the account
    index; a hashtag's tag and a URL are slices of the text.
    """

    def __init__(
        self,
        texts: list[str],
        offsets: np.ndarray,
        kind: np.ndarray,
        start: np.ndarray,
        end: np.ndarray,
        value: np.ndarray,
    ):
        self.texts = texts
        self.offsets, self.kind, self.start, self.end, self.value = offsets, kind, start, end, value
        counts = np.diff(offsets)
        post = np.repeat(np.arange(len(texts)), counts)
        # every hashtag a template can produce is a spelling of the campaign marker
        self.has_marker = np.zeros(len(texts), dtype=bool)
        self.has_marker[post[kind == _E_HASHTAG]] = True
        self.n_mentions = np.bincount(post[kind == _E_MENTION], minlength=len(texts))
        self._lists: tuple[list[int], ...] | None = None

    @classmethod
    def from_arrays(cls, texts, counts, kind, start, end, value) -> _Entities:
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(texts, offsets, kind, start, end, value)

    @classmethod
    def parse(cls, texts: list[str], index: dict[str, int]) -> _Entities:
        """Find the entities by pattern, as Twitter's text parser would (tests compare both)."""
        counts = np.zeros(len(texts), dtype=np.int64)
        kind, start, end, value = [], [], [], []
        for i, text in enumerate(texts):
            for m in _ENTITY_RE.finditer(text):
                if m.group("m") is not None:
                    k, v = _E_MENTION, index[m.group("m")]
                elif m.group("h") is not None:
                    k, v = _E_HASHTAG, -1
                else:
                    k, v = _E_URL, -1
                kind.append(k)
                start.append(m.start())
                end.append(m.end())
                value.append(v)
                counts[i] += 1
        return cls.from_arrays(
            texts,
            counts,
            np.array(kind, dtype=np.int8),
            np.array(start, dtype=np.int32),
            np.array(end, dtype=np.int32),
            np.array(value, dtype=np.int64),
        )

    def _py(self) -> tuple[list[int], list[int], list[int], list[int], list[int]]:
        """The arrays as Python lists (fast per-post access for the writers), built once."""
        if self._lists is None:
            self._lists = (
                self.offsets.tolist(),
                self.kind.tolist(),
                self.start.tolist(),
                self.end.tolist(),
                self.value.tolist(),
            )
        return self._lists

    def of(self, i: int) -> tuple[list, list, list]:
        """Mentions (start, end, account), hashtags (start, end, tag), URLs (start, end, url)."""
        off, kind, start, end, value = self._py()
        men: list[tuple[int, int, int]] = []
        tags: list[tuple[int, int, str]] = []
        urls: list[tuple[int, int, str]] = []
        for j in range(off[i], off[i + 1]):
            k, a, b = kind[j], start[j], end[j]
            if k == _E_MENTION:
                men.append((a, b, value[j]))
            elif k == _E_HASHTAG:
                tags.append((a, b, self.texts[i][a + 1 : b]))
            else:
                urls.append((a, b, self.texts[i][a:b]))
        return men, tags, urls

    def mentions(self, i: int) -> list[tuple[int, int, int]]:
        """(start, end, account index) of each mention in post i."""
        off, kind, start, end, value = self._py()
        return [
            (start[j], end[j], value[j]) for j in range(off[i], off[i + 1]) if kind[j] == _E_MENTION
        ]

    def hashtags(self, i: int) -> list[tuple[int, int, str]]:
        """(start, end, tag without '#') of each hashtag in post i."""
        return self.of(i)[1]

    def urls(self, i: int) -> list[tuple[int, int, str]]:
        """(start, end, url) of each t.co link in post i."""
        return self.of(i)[2]

    def mention_pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """(post index, account index) of every mention, in order."""
        sel = self.kind == _E_MENTION
        post = np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))
        return post[sel], self.value[sel]


def _assign_sources(case: Case, rng: np.random.Generator) -> None:
    """Decide which input file holds each post (with overlaps, so de-duplication is exercised).

    * the personal archive holds every post of the focal account;
    * the JSONL collection holds every other post, and the focal account's posts except some
      original posts nobody refers to (archive only);
    * the NodeXL export holds the posts with the campaign hashtag in its first four crisis days;
      a few of its reposts are missing from the JSONL (NodeXL only).
    """
    p = case.posts
    n = len(p["t"])
    referenced = np.zeros(n, dtype=bool)
    referenced[p["ref"][p["ref"] >= 0]] = True
    by_focal = p["author"] == 0
    no_mentions = p["entities"].n_mentions == 0
    archive_only = by_focal & (p["kind"] == _K_POST) & no_mentions & ~referenced
    archive_only &= rng.random(n) < 0.5
    cs = int(case.windows.crisis_start.timestamp())
    in_nodexl = p["has_marker"] & (p["ts"] >= cs) & (p["ts"] < cs + 4 * 86400)
    nodexl_only = in_nodexl & (p["kind"] == _K_REPOST) & (rng.random(n) < 0.05)
    p["in_archive"] = by_focal
    p["in_nodexl"] = in_nodexl
    p["in_jsonl"] = ~archive_only & ~nodexl_only

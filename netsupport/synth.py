"""Generate synthetic case studies with planted truth, written in every import format.

The case is fictional and modelled on the February 2014 timeline that netsupport was built
for: a police inspector (``@inspector_lane``) whose account is suspended by his force
(``@northshire_police``) for five days. Around him the generator plants

- a follow graph with six communities (police colleagues, mental-health clinicians, service
  users and carers, journalists and media, the general public and a small hostile cluster),
  heavy-tailed follower counts, roles and bios;
- a baseline of ordinary activity; a crisis in which the focal account posts nothing while
  mentions and the campaign hashtag ``#standwithlane`` surge, support comes mostly from prior
  ties and travels through two proxy accounts whose posts are widely reposted, the institution
  receives mostly critical replies and media pick the story up a day after citizens; an after
  window in which attention decays but stays above baseline;
- texts from varied templates (support, critique, neutral news, questions, negations such as
  "not a disgrace", two-target posts and noise), so that stance is not trivial.

Everything the generator planted is written to ``truth.json`` beside the inputs: the community
of every account, the stance of every post towards the focal account and the institution, the
proxies, the windows, the attention lift, the account-level stance shares and the first
mentions by role. The inputs are written as twarc2 Twitter API v2 JSONL pages, a personal
archive zip of the focal account, a NodeXL edge CSV for a subset, follower lists and an accounts
CSV, with a ready-to-run ``study.toml``, ``lexicon.toml`` and ``labels.csv``.

The output is a pure function of :class:`SynthConfig`: the same configuration gives the same
bytes (numpy ``default_rng(seed)``, fixed zip timestamps, sorted keys, no wall clock).

Examples
--------
>>> case = generate(SynthConfig(seed=1, accounts=400, interactions=2000, days=7))
>>> len(case.posts["author"]), case.handles[0], case.handles[1]
(2000, 'inspector_lane', 'northshire_police')
>>> case.truth["attention"]["focal"]["lift"] > 1
True
"""

from __future__ import annotations

import array
import csv
import hashlib
import io
import os
import re
import string
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from .errors import NetsupportError
from .schema import AccountCol, PostKind, Role, Stance, Target, Window
from .textsafe import jsonable
from .windows import Windows

__all__ = [
    "COMMUNITIES",
    "FOCAL",
    "INSTITUTION",
    "MARKER",
    "Case",
    "SynthConfig",
    "SynthResult",
    "generate",
    "synthesize",
    "write_case",
]

FOCAL = "inspector_lane"
INSTITUTION = "northshire_police"
MARKER = "standwithlane"  # the campaign hashtag, without '#'
COMMUNITIES = ("police", "clinicians", "service_users", "media", "public", "hostile")
_POL, _CLI, _SU, _MED, _PUB, _HOS = range(6)
_COMMUNITY_SHARE = np.array([0.17, 0.15, 0.19, 0.07, 0.39, 0.03])
# Row c: where accounts of community c direct their follows (and so their everyday interactions).
_MIXING = np.array(
    [
        [0.980, 0.008, 0.004, 0.002, 0.006, 0.000],
        [0.007, 0.980, 0.009, 0.000, 0.004, 0.000],
        [0.002, 0.009, 0.980, 0.000, 0.009, 0.000],
        [0.015, 0.005, 0.005, 0.920, 0.055, 0.000],
        [0.002, 0.000, 0.004, 0.004, 0.990, 0.000],
        [0.004, 0.000, 0.000, 0.008, 0.018, 0.970],
    ]
)

# Stance codes used in the arrays (-1: the post does not address that target).
_NA, _NEU, _SUP, _CRI = -1, 0, 1, 2
_STANCE_NAME = {
    _NEU: Stance.NEUTRAL.value,
    _SUP: Stance.SUPPORTIVE.value,
    _CRI: Stance.CRITICAL.value,
}
# Post kind codes.
_K_POST, _K_REPLY, _K_REPOST, _K_QUOTE = 0, 1, 2, 3
_KIND_NAME = [
    PostKind.POST.value,
    PostKind.REPLY.value,
    PostKind.REPOST.value,
    PostKind.QUOTE.value,
]
_WINDOWS = (Window.BASELINE, Window.CRISIS, Window.AFTER)
_B, _C, _A = 0, 1, 2

_EPOCH_SNOWFLAKE_MS = 1288834974657  # Twitter's snowflake epoch
_ZIP_TIME = (2014, 3, 6, 12, 0, 0)  # fixed member timestamps: same bytes every run


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
# Configuration and the in-memory case
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthConfig:
    """Every parameter of a synthetic case; the output is a pure function of it.

    Parameters
    ----------
    seed
        Seed for ``numpy.random.default_rng``.
    accounts
        Number of accounts (at least 300).
    interactions
        Number of posts generated (each is one JSONL tweet; the interaction rows derived from
        them are counted in ``truth.json``).
    days
        Length of the baseline and of the after window, in days.
    crisis_start, crisis_end
        The crisis window (the focal account's suspension), ISO-8601 with a time zone.
    focal_share
        Share of the posts that address the focal account (by others); the institution gets
        0.6 times as many. The rest is everyday activity, which carries the communities.
    lift
        Planted ratio of the crisis rate to the baseline rate of posts addressed to the focal
        account (the realised lift is reported in ``truth.json``).
    tie_effect
        Plant a tie effect: in the crisis, accounts with a prior tie to the focal account (they
        follow it or addressed it in the baseline) are supportive with probability 0.90, others
        with 0.64. False (a null world): others get the prior-tie dispositions too.
    role_order
        Plant a role order: media and journalists' crisis posts about the focal account start
        24 hours after the crisis start. False: they follow everyone else's timing.
    institution_drop
        Plant the institution's fall: crisis and after dispositions towards it depend on the
        focal disposition (supporters of the focal account turn critical). False: drawn as in the
        baseline, with the baseline's mix of senders, so its net support does not change.
    name
        Study name written to study.toml.
    report_dir
        ``[output] dir`` written to study.toml, relative to it (default ``reports/<name>``).
    """

    seed: int = 42
    accounts: int = 5000
    interactions: int = 50000
    days: int = 14
    crisis_start: str = "2014-02-14T09:00:00Z"
    crisis_end: str = "2014-02-19T18:00:00Z"
    lift: float = 8.0
    focal_share: float = 0.08
    tie_effect: bool = True
    role_order: bool = True
    institution_drop: bool = True
    name: str = "synthetic"
    report_dir: str | None = None

    def check(self) -> None:
        """Raise NetsupportError naming the first parameter that is out of range."""
        if self.accounts < 300:
            raise NetsupportError(f"synth: --accounts must be at least 300, got {self.accounts}")
        if self.interactions < 1000:
            raise NetsupportError(
                f"synth: --interactions must be at least 1000, got {self.interactions}"
            )
        if not 2 <= self.days <= 365:
            raise NetsupportError(f"synth: --days must be between 2 and 365, got {self.days}")
        if not 0.01 <= self.focal_share <= 0.4:
            raise NetsupportError(
                f"synth: --focal-share must be between 0.01 and 0.4, got {self.focal_share}"
            )
        if self.lift < 1:
            raise NetsupportError(f"synth: lift must be >= 1, got {self.lift}")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
            raise NetsupportError(
                f"synth: --name must be letters, digits, _ . -, got {self.name!r}"
            )


@dataclass
class Case:
    """A generated case in memory: accounts, follows, posts (column arrays) and the truth."""

    config: SynthConfig
    windows: Windows
    handles: list[str]
    account_ids: np.ndarray  # int64
    names: list[str]
    bios: list[str]
    roles: np.ndarray  # object (Role values)
    community: np.ndarray  # int8 index into COMMUNITIES
    followers_count: np.ndarray  # int64
    focal_followers: np.ndarray  # account indices
    focal_following: np.ndarray
    institution_followers: np.ndarray
    proxies: tuple[int, int]
    posts: dict[str, Any]  # column arrays, sorted by time; see _finalise_posts
    truth: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SynthResult:
    """What :func:`synthesize` wrote: the study file and every file with its size in bytes."""

    out_dir: Path
    study: Path
    files: tuple[tuple[str, int], ...]
    posts: int
    accounts: int


# ------------------------------------------------------------------------------------------------
# Accounts and the follow graph
# ------------------------------------------------------------------------------------------------


def _community_sizes(n: int) -> np.ndarray:
    sizes = np.floor(_COMMUNITY_SHARE * n).astype(np.int64)
    sizes[_PUB] += n - sizes.sum()
    return sizes


def _make_handles(rng: np.random.Generator, community: np.ndarray, roles: np.ndarray) -> list[str]:
    n = len(community)
    first = rng.integers(len(_FIRST), size=n)
    sa = rng.integers(len(_SUR_A), size=n)
    sb = rng.integers(len(_SUR_B), size=n)
    sc = rng.integers(len(_SUR_C), size=n)
    pattern = rng.integers(6, size=n)
    digits = rng.integers(1, 100, size=n)
    town = rng.integers(len(_TOWNS), size=n)
    outlet = rng.integers(len(_OUTLETS), size=n)
    seen = {FOCAL, INSTITUTION}
    out: list[str] = []
    for i in range(n):
        sur = _SUR_A[sa[i]] + _SUR_B[sb[i]] + _SUR_C[sc[i]]
        f = _FIRST[first[i]]
        role = roles[i]
        if role == Role.MEDIA.value:
            h = f"{_TOWNS[town[i]]}_{_OUTLETS[outlet[i]]}"
        elif role == Role.INSTITUTION.value:
            h = f"{_TOWNS[town[i]]}{'_nhs' if community[i] == _CLI else 'pol'}_{sur[:5]}"
        elif community[i] == _POL and pattern[i] < 3:
            h = f"{('pc', 'sgt', 'dc')[pattern[i]]}_{sur}"
        elif community[i] == _CLI and pattern[i] < 2:
            h = f"{('dr', 'rmn')[pattern[i]]}_{sur}"
        elif pattern[i] < 2:
            h = f"{f}_{sur}"
        elif pattern[i] < 4:
            h = f"{f}{sur}{digits[i]}"
        else:
            h = f"{f[0]}{sur}"
        h = h[:15]
        base, k = h, 1
        while h in seen:
            k += 1
            suffix = str(k)
            h = base[: 15 - len(suffix)] + suffix
        seen.add(h)
        out.append(h)
    return out


def _accounts(rng: np.random.Generator, n: int) -> dict[str, Any]:
    """Communities, roles, handles, ids, names, bios, activity and popularity of n accounts."""
    sizes = _community_sizes(n)
    community = np.repeat(np.arange(6, dtype=np.int8), sizes)
    # four named accounts take the first indices: focal, institution, proxy A, proxy B
    special = np.array([_POL, _POL, _POL, _CLI], dtype=np.int8)
    rest = community.copy()
    for c in special:
        rest = np.delete(rest, np.flatnonzero(rest == c)[0])
    community = np.concatenate([special, rng.permutation(rest)])

    u = rng.random(n)
    roles = np.full(n, Role.CITIZEN.value, dtype=object)
    roles[(community == _POL) & (u < 0.97)] = Role.PROFESSIONAL.value
    roles[(community == _POL) & (u >= 0.97)] = Role.INSTITUTION.value
    roles[(community == _CLI) & (u < 0.95)] = Role.PROFESSIONAL.value
    roles[(community == _CLI) & (u >= 0.95)] = Role.INSTITUTION.value
    roles[(community == _MED) & (u < 0.4)] = Role.MEDIA.value
    roles[(community == _MED) & (u >= 0.4)] = Role.JOURNALIST.value
    roles[(community == _PUB) & (u < 0.01)] = Role.JOURNALIST.value
    roles[:4] = [
        Role.PROFESSIONAL.value,
        Role.INSTITUTION.value,
        Role.PROFESSIONAL.value,
        Role.PROFESSIONAL.value,
    ]

    handles = _make_handles(rng, community, roles)
    handles[0], handles[1] = FOCAL, INSTITUTION
    proxy_a, proxy_b = "sgt_ana_corbel", "rmn_tess_hollin"
    handles[2], handles[3] = proxy_a, proxy_b
    dup = {proxy_a, proxy_b}
    for i in range(4, n):  # keep the named handles unique
        if handles[i] in dup:
            handles[i] = handles[i][:13] + "_x"

    gaps = rng.integers(1, 20000, size=n)
    ids = (15_000_000 + np.cumsum(gaps)).astype(np.int64)
    ids = ids[rng.permutation(n)]

    first_names = [_FIRST[i].capitalize() for i in rng.integers(len(_FIRST), size=n)]
    names = []
    for i in range(n):
        h = handles[i]
        if roles[i] in (Role.MEDIA.value, Role.INSTITUTION.value):
            names.append(h.replace("_", " ").title())
        else:
            sur = re.sub(r"[^a-z]", "", h.split("_")[-1]).capitalize() or "Smith"
            names.append(f"{first_names[i]} {sur}")
    names[0], names[1] = "Insp Sam Lane", "Northshire Police"
    names[2], names[3] = "Sgt Ana Corbel", "Tess Hollin RMN"

    bio_pick = rng.integers(1 << 30, size=n)
    bios = []
    for i in range(n):
        pool = _BIOS.get((int(community[i]), roles[i])) or _BIOS[(_PUB, Role.CITIZEN.value)]
        bios.append(pool[bio_pick[i] % len(pool)])
    bios[0] = "Police inspector in Northshire. Mental health and policing. Views my own"
    bios[1] = "Official account of Northshire Police. Not monitored 24/7. In an emergency dial 999"
    bios[2] = "Police sergeant, Northshire. Views my own"
    bios[3] = "Mental health nurse, crisis team. Views my own"

    role_activity = {
        Role.MEDIA.value: 2.0,
        Role.JOURNALIST.value: 1.5,
        Role.INSTITUTION.value: 1.5,
    }
    activity = rng.lognormal(0.0, _ACTIVITY_SIGMA, size=n) * np.array(
        [role_activity.get(r, 1.0) for r in roles]
    )
    role_pop = {Role.MEDIA.value: 8.0, Role.JOURNALIST.value: 3.0, Role.INSTITUTION.value: 10.0}
    popularity = (rng.pareto(1.4, size=n) + 1.0) * np.array([role_pop.get(r, 1.0) for r in roles])
    popularity[0] = popularity.max() * 1.2
    popularity[1] = popularity.max() * 1.5
    popularity[2:4] = np.maximum(popularity[2:4], np.quantile(popularity, 0.99))
    activity[2:4] = np.maximum(activity[2:4], np.quantile(activity, 0.9))
    return {
        "community": community,
        "roles": roles,
        "handles": handles,
        "ids": ids,
        "names": names,
        "bios": bios,
        "activity": activity,
        "popularity": popularity,
    }


_SHARE_PLAIN = 0.08  # posts addressing nobody
_INST_PER_FOCAL = 0.6  # posts addressing only the institution, per post addressing the focal one
# who follows the focal account and the institution, by community
_FOCAL_FOLLOW_P = np.array([0.19, 0.16, 0.12, 0.09, 0.02, 0.05])
_INST_FOLLOW_P = np.array([0.26, 0.09, 0.05, 0.21, 0.07, 0.10])
_FOCAL_FOLLOWING = 0.03  # share of accounts the focal account follows
_ACTIVITY_SIGMA = 0.6  # spread of the accounts' activity (lognormal)
_FOLLOW_MEDIAN = 16  # median number of accounts an account follows
_CIRCLE_SIZE = 50  # circles: teams, wards, support groups, friend groups
_CIRCLE_P = 0.35  # share of follows inside the community that stay inside one's circle


def _follow_graph(
    rng: np.random.Generator, community: np.ndarray, popularity: np.ndarray
) -> dict[str, np.ndarray]:
    """Plant the follow graph: who follows whom (CSR), and the focal/institution follower sets."""
    n = len(community)
    deg = np.clip(np.round(rng.lognormal(np.log(_FOLLOW_MEDIAN), 0.7, size=n)), 3, 400)
    deg = deg.astype(np.int64)
    deg[:2] = 0  # the focal account's and the institution's own follows are drawn separately
    src = np.repeat(np.arange(n, dtype=np.int64), deg)
    cum = _MIXING.cumsum(axis=1)
    u = rng.random(len(src))
    tcomm = (u[:, None] > cum[community[src]]).sum(axis=1)
    tcomm = np.minimum(tcomm, 5)
    dst = np.empty(len(src), dtype=np.int64)
    inside = tcomm == community[src]
    for c in range(6):
        members = np.flatnonzero(community == c)
        members = members[members >= 2]  # the two named targets get follower lists, not CSR edges
        pick = np.flatnonzero(tcomm == c)
        w = np.cumsum(popularity[members])  # towards the community's popular accounts
        dst[pick] = members[np.searchsorted(w, rng.random(len(pick)) * w[-1], side="right")]
    # circles: teams, wards, support groups, friend groups; a share of follows stays inside one
    circle = np.full(n, -1, dtype=np.int64)
    next_id = 0
    for c in range(6):
        members = np.flatnonzero(community == c)
        members = rng.permutation(members[members >= 2])
        circle[members] = next_id + np.arange(len(members)) // _CIRCLE_SIZE
        next_id = int(circle[members].max()) + 1 if len(members) else next_id
    by_circle = np.argsort(circle, kind="stable")
    by_circle = by_circle[circle[by_circle] >= 0]
    csize = np.bincount(circle[by_circle], minlength=next_id)
    cstart = np.concatenate([[0], np.cumsum(csize)[:-1]])
    local = np.flatnonzero(inside & (rng.random(len(src)) < _CIRCLE_P))
    cid = circle[src[local]]
    dst[local] = by_circle[cstart[cid] + (rng.random(len(local)) * csize[cid]).astype(np.int64)]
    keep = src != dst
    key = np.unique(src[keep] * n + dst[keep])
    fsrc, fdst = key // n, key % n
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(fsrc, minlength=n), out=offsets[1:])

    focal_p = _FOCAL_FOLLOW_P
    inst_p = _INST_FOLLOW_P
    u1, u2 = rng.random(n), rng.random(n)
    focal_followers = np.flatnonzero(u1 < focal_p[community])
    focal_followers = np.union1d(focal_followers[focal_followers != 0], [1, 2, 3])
    inst_followers = np.flatnonzero(u2 < inst_p[community])
    inst_followers = np.union1d(inst_followers[inst_followers != 1], [0, 2])
    cand = np.flatnonzero(np.isin(community, [_POL, _CLI, _SU, _MED]))
    cand = cand[cand > 1]
    k = min(len(cand), max(30, int(_FOCAL_FOLLOWING * n)))
    w = popularity[cand] / popularity[cand].sum()
    focal_following = np.union1d(rng.choice(cand, size=k, replace=False, p=w), [1, 2, 3])
    return {
        "offsets": offsets,
        "friends": fdst,
        "focal_followers": focal_followers,
        "inst_followers": inst_followers,
        "focal_following": focal_following,
    }


# ------------------------------------------------------------------------------------------------
# Posts: generation in two stages (originals, then replies/reposts/quotes that reference them)
# ------------------------------------------------------------------------------------------------

# segments of accounts, per window: who they are relative to the focal account
_SEG_PRIOR, _SEG_NEW, _SEG_HOSTILE, _SEG_MEDIA = range(4)
# frames: how a post addresses its targets
(
    _FR_F,  # original mentioning the focal account
    _FR_FI,  # original mentioning both targets
    _FR_T,  # original with the campaign hashtag only
    _FR_NEWS,  # media news original mentioning the focal account
    _FR_FREPLY,  # reply to a post of the focal account
    _FR_FREPOST,  # repost of a post of the focal account
    _FR_FQUOTE,  # quote of a post of the focal account
    _FR_PREPOST,  # repost of a proxy's post
    _FR_PREPLY,  # reply to a proxy's post
    _FR_PQUOTE,  # quote of a proxy's post
    _FR_NREPOST,  # repost of a news post
    _FR_I,  # original mentioning the institution
    _FR_IREPLY,  # reply to a post of the institution
    _FR_IREPOST,  # repost of a post of the institution
) = range(14)
# referent pools for stage-2 events
_RP_AUTHOR, _RP_FOCAL, _RP_PROXY, _RP_NEWS, _RP_INST = range(5)

_FOCAL_SEG_W = {
    _B: (0.80, 0.14, 0.06, 0.00),
    _C: (0.68, 0.14, 0.06, 0.12),
    _A: (0.66, 0.16, 0.04, 0.14),
}
_INST_SEG_W = {
    _B: (0.25, 0.55, 0.05, 0.15),
    _C: (0.45, 0.35, 0.08, 0.12),
    _A: (0.35, 0.45, 0.05, 0.15),
}
# (neutral, supportive, critical) dispositions towards the focal account, by window and segment
_FOCAL_DISP = {
    _B: ((0.42, 0.53, 0.05), (0.55, 0.33, 0.12), (0.30, 0.00, 0.70), (0.95, 0.05, 0.00)),
    _C: ((0.07, 0.90, 0.03), (0.22, 0.64, 0.14), (0.06, 0.02, 0.92), (0.86, 0.09, 0.05)),
    _A: ((0.22, 0.75, 0.03), (0.45, 0.45, 0.10), (0.20, 0.00, 0.80), (0.90, 0.07, 0.03)),
}
# towards the institution, in crisis and after: conditional on the focal disposition
_INST_DISP_GIVEN_FOCAL = {
    _C: {_NEU: (0.60, 0.10, 0.30), _SUP: (0.15, 0.02, 0.83), _CRI: (0.30, 0.65, 0.05)},
    _A: {_NEU: (0.60, 0.15, 0.25), _SUP: (0.35, 0.10, 0.55), _CRI: (0.40, 0.55, 0.05)},
}
_FRAMES_FOCAL = {
    (_B, _SUP): {_FR_F: 0.30, _FR_FREPLY: 0.35, _FR_FREPOST: 0.25, _FR_FQUOTE: 0.05, _FR_FI: 0.05},
    (_B, _NEU): {_FR_F: 0.45, _FR_FREPLY: 0.45, _FR_FI: 0.10},
    (_B, _CRI): {_FR_F: 0.50, _FR_FREPLY: 0.45, _FR_FI: 0.05},
    (_C, _SUP): {
        _FR_F: 0.25,
        _FR_FI: 0.13,
        _FR_T: 0.05,
        _FR_FREPLY: 0.07,
        _FR_FREPOST: 0.04,
        _FR_FQUOTE: 0.02,
        _FR_PREPOST: 0.30,
        _FR_PREPLY: 0.08,
        _FR_PQUOTE: 0.06,
    },
    (_C, _NEU): {_FR_F: 0.55, _FR_FI: 0.15, _FR_FREPLY: 0.10, _FR_NREPOST: 0.15, _FR_T: 0.05},
    (_C, _CRI): {_FR_F: 0.55, _FR_FI: 0.15, _FR_FREPLY: 0.15, _FR_PQUOTE: 0.10, _FR_T: 0.05},
    (_A, _SUP): {
        _FR_F: 0.30,
        _FR_FREPLY: 0.30,
        _FR_FREPOST: 0.20,
        _FR_FI: 0.10,
        _FR_FQUOTE: 0.10,
    },
    (_A, _NEU): {_FR_F: 0.50, _FR_FREPLY: 0.35, _FR_FI: 0.15},
    (_A, _CRI): {_FR_F: 0.50, _FR_FREPLY: 0.40, _FR_FI: 0.10},
}
_FRAMES_MEDIA = {_NEU: {_FR_NEWS: 0.7, _FR_FI: 0.3}, _SUP: {_FR_F: 1.0}, _CRI: {_FR_F: 1.0}}
_FRAMES_INST = {
    (_B, _SUP): {_FR_I: 0.40, _FR_IREPLY: 0.30, _FR_IREPOST: 0.30},
    (_B, _NEU): {_FR_I: 0.50, _FR_IREPLY: 0.50},
    (_B, _CRI): {_FR_I: 0.55, _FR_IREPLY: 0.45},
    (_C, _SUP): {_FR_I: 0.40, _FR_IREPLY: 0.40, _FR_IREPOST: 0.20},
    (_C, _NEU): {_FR_I: 0.50, _FR_IREPLY: 0.50},
    (_C, _CRI): {_FR_I: 0.40, _FR_IREPLY: 0.60},
    (_A, _SUP): {_FR_I: 0.40, _FR_IREPLY: 0.40, _FR_IREPOST: 0.20},
    (_A, _NEU): {_FR_I: 0.50, _FR_IREPLY: 0.50},
    (_A, _CRI): {_FR_I: 0.50, _FR_IREPLY: 0.50},
}
_FOCAL_ENGAGEMENT = np.array([1.2, 1.3, 1.5, 1.0, 0.6, 2.0])
_INST_ENGAGEMENT = np.array([1.0, 0.6, 0.8, 1.2, 1.0, 2.0])
# relative hourly activity (UTC is UK time in February)
_HOUR_W = np.array(
    [
        0.30,
        0.20,
        0.12,
        0.08,
        0.08,
        0.12,
        0.35,
        0.70,
        1.00,
        1.10,
        1.10,
        1.15,
        1.25,
        1.15,
        1.05,
        1.05,
        1.15,
        1.25,
        1.45,
        1.60,
        1.60,
        1.40,
        1.00,
        0.60,
    ]
)
_HOUR_W = _HOUR_W / _HOUR_W.max()
_COLS = ("author", "t", "kind", "ref", "mention", "tpl", "sf", "si", "frame")
_DAY = 86400.0
_HOUR = 3600.0


def _chunk(n: int, **cols: Any) -> dict[str, np.ndarray]:
    defaults = {
        "author": (np.int64, -1),
        "t": (np.float64, 0.0),
        "kind": (np.int8, _K_POST),
        "ref": (np.int64, -1),
        "mention": (np.int64, -1),
        "tpl": (np.int32, -1),
        "sf": (np.int8, _NA),
        "si": (np.int8, _NA),
        "frame": (np.int8, -1),
        "rpool": (np.int8, -1),
        "rtarget": (np.int64, -1),
        "fallback": (np.int32, -1),
    }
    out = {}
    for name, (dtype, fill) in defaults.items():
        v = cols.get(name, fill)
        out[name] = np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()
    return out


def _concat(chunks: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}


class _Gen:
    """The stateful part of :func:`generate` (one random stream, consumed in a fixed order)."""

    def __init__(self, cfg: SynthConfig):
        self.cfg = cfg
        self.rng = np.random.default_rng(cfg.seed)
        self.windows = Windows.from_crisis(cfg.crisis_start, cfg.crisis_end, cfg.days, cfg.days)
        self.t0 = int(self.windows.baseline_start.timestamp())
        self.cs = float(int(self.windows.crisis_start.timestamp()) - self.t0)
        self.ce = float(int(self.windows.crisis_end.timestamp()) - self.t0)
        self.end = float(int(self.windows.after_end.timestamp()) - self.t0)
        self.bounds = {_B: (0.0, self.cs), _C: (self.cs, self.ce), _A: (self.ce, self.end)}
        self.stage1: list[dict[str, np.ndarray]] = []
        self.stage2: list[dict[str, np.ndarray]] = []

    # -- sampling helpers ------------------------------------------------------------------------
    def times(self, n: int, draw) -> np.ndarray:
        """Draw n times from ``draw(m)`` thinned by the daily activity cycle."""
        out: list[np.ndarray] = []
        have = 0
        while have < n:
            m = int((n - have) * 1.7) + 16
            cand = draw(m)
            hours = ((cand + self.t0) // _HOUR).astype(np.int64) % 24
            cand = cand[self.rng.random(m) < _HOUR_W[hours]]
            out.append(cand)
            have += len(cand)
        return np.concatenate(out)[:n] if out else np.empty(0)

    def uniform(self, lo: float, hi: float):
        return lambda m: self.rng.uniform(lo, hi, size=m)

    def truncexp(self, lo: float, hi: float, tau: float):
        span = hi - lo

        def draw(m: int) -> np.ndarray:
            u = self.rng.random(m)
            return lo - tau * np.log1p(-u * (1.0 - np.exp(-span / tau)))

        return draw

    def after_draw(self, floor: float, bump: float, tau: float):
        """Attention after the crisis: a level ``floor`` plus a bump decaying with ``tau``."""
        lo, hi = self.bounds[_A]
        d = hi - lo
        w_floor = floor * d
        w_bump = bump * tau * (1 - np.exp(-d / tau))
        p_floor = w_floor / (w_floor + w_bump)
        uni, exp = self.uniform(lo, hi), self.truncexp(lo, hi, tau)

        def draw(m: int) -> np.ndarray:
            return np.where(self.rng.random(m) < p_floor, uni(m), exp(m))

        return draw

    def pick(self, candidates: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
        if n == 0:
            return np.empty(0, dtype=np.int64)
        w = np.cumsum(weights[candidates])
        return candidates[np.searchsorted(w, self.rng.random(n) * w[-1], side="right")]

    def templates(self, keys: np.ndarray | list[str]) -> np.ndarray:
        """One random template id per pool key."""
        keys = np.asarray(keys, dtype=object)
        out = np.empty(len(keys), dtype=np.int32)
        for key in sorted(set(keys.tolist())):
            idx = np.flatnonzero(keys == key)
            pool = _POOL_IDS[key]
            out[idx] = pool[self.rng.integers(len(pool), size=len(idx))]
        return out

    def categorical(self, probs: np.ndarray, n: int) -> np.ndarray:
        cum = np.cumsum(probs)
        return np.minimum(
            np.searchsorted(cum, self.rng.random(n) * cum[-1], side="right"), len(cum) - 1
        )

    # -- streams ---------------------------------------------------------------------------------
    def plain(self, n: int) -> None:
        """Posts that address nobody: everyday posts and noise."""
        acc = self.acc
        cand = np.arange(2, self.cfg.accounts)
        src = self.pick(cand, acc["activity"] * acc["popularity"] ** 0.3, n)
        t = self.times(n, self.uniform(0.0, self.end))
        noise = self.rng.random(n) < 0.10
        keys = np.where(
            noise,
            "noise",
            np.array([f"plain.{COMMUNITIES[c]}" for c in range(6)])[acc["community"][src]],
        )
        self.stage1.append(_chunk(n, author=src, t=t, tpl=self.templates(keys)))

    def focal_own(self, n: int) -> None:
        """The focal account's own posts: baseline and after, silent in the crisis."""
        rng = self.rng
        last_t, back_t = self.cs - _HOUR, self.ce + 3 * _HOUR
        self.stage1.append(
            _chunk(1, author=0, t=last_t, tpl=self.templates(["own.focal.last"]), frame=-2)
        )
        self.stage1.append(
            _chunk(1, author=0, t=back_t, tpl=self.templates(["own.focal.return"]), frame=-3)
        )
        m = n - 2
        lb, la0 = self.cs - 2 * _HOUR, back_t + 600.0
        len_b, len_a = lb, self.end - la0

        def draw(k: int) -> np.ndarray:
            u = rng.uniform(0, len_b + len_a, size=k)
            return np.where(u < len_b, u, la0 + (u - len_b))

        t = self.times(m, draw)
        after = t >= self.ce
        u = rng.random(m)
        orig = u < 0.6
        keys = np.where(after, "own.focal.after", "own.focal")
        self.stage1.append(
            _chunk(int(orig.sum()), author=0, t=t[orig], tpl=self.templates(keys[orig]))
        )
        following = self.fg["focal_following"]
        following = following[following != 1]
        for kind, sel in ((_K_REPLY, (u >= 0.6) & (u < 0.85)), (_K_REPOST, u >= 0.85)):
            k = int(sel.sum())
            self.stage2.append(
                _chunk(
                    k,
                    author=0,
                    t=t[sel],
                    kind=kind,
                    tpl=self.templates(["own.focal.reply"] * k) if kind == _K_REPLY else -1,
                    rpool=_RP_AUTHOR,
                    rtarget=following[rng.integers(len(following), size=k)],
                    fallback=self.templates(keys[sel]),
                )
            )

    def inst_own(self, n: int) -> None:
        """The institution's posts: appeals and news, statements in the crisis."""
        fixed_t = [self.cs + 6 * _HOUR, self.cs + 30 * _HOUR, self.cs + 80 * _HOUR]
        fixed_t = [t for t in fixed_t if t < self.ce - _HOUR]
        statements = _POOL_IDS["own.inst.statement"][: len(fixed_t)]
        self.stage1.append(_chunk(len(fixed_t), author=1, t=fixed_t, tpl=statements, frame=-4))
        self.stage1.append(
            _chunk(1, author=1, t=self.ce + _HOUR, tpl=_POOL_IDS["own.inst.restored"][:1])
        )
        m = n - len(fixed_t) - 1
        t = self.times(m, self.uniform(0.0, self.end))
        self.stage1.append(_chunk(m, author=1, t=t, tpl=self.templates(["own.inst"] * m)))

    def proxy_posts(self, n_each: int) -> None:
        """Each proxy posts supportive messages on the focal account's behalf in the crisis."""
        for k, (who, first) in enumerate(((2, 1.5 * _HOUR), (3, 3.0 * _HOUR))):
            t0 = self.cs + first
            rest = self.times(n_each - 1, self.uniform(t0 + _HOUR, self.ce - 4 * _HOUR))
            t = np.concatenate([[t0], rest])
            self.stage1.append(
                _chunk(
                    n_each,
                    author=who,
                    t=t,
                    tpl=self.templates([f"proxy.{k}"] * n_each),
                    sf=_SUP,
                    frame=-5,
                )
            )

    def chatter(self, n: int) -> None:
        """Everyday interactions along follow edges: mentions, replies, reposts, quotes."""
        rng, acc, fg = self.rng, self.acc, self.fg
        offsets, friends = fg["offsets"], fg["friends"]
        deg = np.diff(offsets)
        cand = np.flatnonzero(deg > 0)
        cand = cand[cand > 1]
        src = self.pick(cand, acc["activity"], n)
        t = self.times(n, self.uniform(0.0, self.end))
        tgt = friends[offsets[src] + (rng.random(n) * deg[src]).astype(np.int64)]
        u = rng.random(n)
        welsh = rng.random(n) < 0.02
        comm_keys = np.array([f"chat.{c}" for c in COMMUNITIES])[acc["community"][src]]
        chat_keys = np.where(welsh, "chat.cy", comm_keys)
        mention = u < 0.35
        self.stage1.append(
            _chunk(
                int(mention.sum()),
                author=src[mention],
                t=t[mention],
                mention=tgt[mention],
                tpl=self.templates(chat_keys[mention]),
            )
        )
        for kind, sel, pool in (
            (_K_REPLY, (u >= 0.35) & (u < 0.65), "reply.any"),
            (_K_REPOST, (u >= 0.65) & (u < 0.90), None),
            (_K_QUOTE, u >= 0.90, "quote.any"),
        ):
            k = int(sel.sum())
            self.stage2.append(
                _chunk(
                    k,
                    author=src[sel],
                    t=t[sel],
                    kind=kind,
                    tpl=self.templates([pool] * k) if pool else -1,
                    rpool=_RP_AUTHOR,
                    rtarget=tgt[sel],
                    fallback=self.templates(chat_keys[sel]),
                )
            )

    def segments(self, prior: np.ndarray) -> np.ndarray:
        """Segment of every account relative to the focal account (-1: focal or institution)."""
        acc = self.acc
        seg = np.full(self.cfg.accounts, _SEG_NEW, dtype=np.int8)
        seg[prior] = _SEG_PRIOR
        seg[acc["community"] == _HOS] = _SEG_HOSTILE
        media = np.isin(acc["roles"], [Role.MEDIA.value, Role.JOURNALIST.value])
        seg[media] = _SEG_MEDIA
        seg[:2] = -1
        return seg

    def dispositions(self, w: int, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each account's stance towards the focal account and the institution in window w."""
        n = self.cfg.accounts
        acc = self.acc
        disp_f = np.full(n, _NEU, dtype=np.int8)
        for s in range(4):
            idx = np.flatnonzero(seg == s)
            # a null world without a tie effect: accounts without a tie behave like those with one
            row = _SEG_PRIOR if (s == _SEG_NEW and not self.cfg.tie_effect) else s
            disp_f[idx] = self.categorical(np.array(_FOCAL_DISP[w][row]), len(idx))
        disp_i = np.full(n, _NEU, dtype=np.int8)
        if w == _B or not self.cfg.institution_drop:
            probs = np.tile(np.array([0.50, 0.30, 0.20]), (n, 1))
            probs[acc["community"] == _POL] = (0.45, 0.50, 0.05)
            probs[acc["community"] == _HOS] = (0.20, 0.00, 0.80)
            probs[seg == _SEG_MEDIA] = (0.95, 0.03, 0.02)
            cum = probs.cumsum(axis=1)
            disp_i[:] = (self.rng.random(n)[:, None] > cum).sum(axis=1).clip(0, 2)
        else:
            for f in (_NEU, _SUP, _CRI):
                idx = np.flatnonzero((disp_f == f) & (seg != _SEG_MEDIA))
                disp_i[idx] = self.categorical(np.array(_INST_DISP_GIVEN_FOCAL[w][f]), len(idx))
            idx = np.flatnonzero(seg == _SEG_MEDIA)
            disp_i[idx] = self.categorical(np.array([0.90, 0.05, 0.05]), len(idx))
        disp_f[2:4] = _SUP  # the proxies stand by him throughout
        if w != _B and self.cfg.institution_drop:
            disp_i[2:4] = _CRI
        return disp_f, disp_i

    def sources(self, w: int, n: int, seg: np.ndarray, seg_w: dict, engagement: np.ndarray):
        segw = np.array(seg_w[w]) * np.array([(seg == s).any() for s in range(4)])
        s_ev = self.categorical(segw, n)
        weights = self.acc["activity"] * engagement[self.acc["community"]]
        src = np.empty(n, dtype=np.int64)
        for s in range(4):
            idx = np.flatnonzero(s_ev == s)
            src[idx] = self.pick(np.flatnonzero(seg == s), weights, len(idx))
        return src, s_ev

    def frames(self, table: dict, keys: np.ndarray) -> np.ndarray:
        out = np.empty(len(keys), dtype=np.int8)
        for key in sorted(set(keys.tolist())):
            idx = np.flatnonzero(keys == key)
            options = table[key]
            names = np.array(list(options), dtype=np.int8)
            out[idx] = names[self.categorical(np.array(list(options.values())), len(idx))]
        return out

    def focal_stream(self, w: int, n: int, seg: np.ndarray, disp_f, disp_i) -> np.ndarray:
        """Posts addressing the focal account in window w; returns their authors."""
        src, s_ev = self.sources(w, n, seg, _FOCAL_SEG_W, _FOCAL_ENGAGEMENT)
        t = np.empty(n)
        media = s_ev == _SEG_MEDIA
        for sel, draw in (
            (media, self._focal_draw(w, True)),
            (~media, self._focal_draw(w, False)),
        ):
            t[sel] = self.times(int(sel.sum()), draw)
        sf, si = disp_f[src], disp_i[src]
        frame = np.empty(n, dtype=np.int8)
        keys = np.array([w * 10 + int(s) for s in sf])
        nonmedia = np.flatnonzero(~media)
        frame[nonmedia] = self.frames(
            {k: _FRAMES_FOCAL[(k // 10, k % 10)] for k in set(keys[nonmedia].tolist())},
            keys[nonmedia],
        )
        midx = np.flatnonzero(media)
        frame[midx] = self.frames(_FRAMES_MEDIA, sf[midx].astype(np.int64))
        self.emit_focal(w, src, t, sf, si, frame)
        return src

    def _focal_draw(self, w: int, media: bool):
        if w == _B:
            return self.uniform(0.0, self.cs)
        if w == _C:
            if media and self.cfg.role_order:
                return self.truncexp(self.cs + 24 * _HOUR, self.ce, 1.5 * _DAY)
            return self.truncexp(self.cs, self.ce, 1.8 * _DAY)
        return self.after_draw(1.25, 2.5, 3 * _DAY)

    def emit_focal(self, w, src, t, sf, si, frame) -> None:
        ph = _PHASE[w]
        sk = np.array([_STANCE_KEY[int(s)] for s in sf], dtype=object)
        ik = np.array([_STANCE_KEY[int(s)] for s in si], dtype=object)
        f_keys = np.array([f"F.{ph}.{s}" for s in sk], dtype=object)
        # frames without a template pool for this phase/stance fall back to a plain mention
        fi_keys = np.array([f"FI.{ph}.{a}.{b}" for a, b in zip(sk, ik, strict=True)], dtype=object)
        t_keys = np.array([f"T.{ph}.{s}" for s in sk], dtype=object)
        fq_keys = np.array([f"Fq.{ph}.{s}" for s in sk], dtype=object)
        n_keys = np.array([f"N.{ph}.{s}" for s in sk], dtype=object)
        frame = frame.copy()
        for fr, keys in (
            (_FR_FI, fi_keys),
            (_FR_T, t_keys),
            (_FR_NEWS, n_keys),
            (_FR_FQUOTE, fq_keys),
        ):
            missing = (frame == fr) & ~np.isin(keys, list(_POOL_IDS))
            frame[missing] = _FR_F
        if w != _C:
            frame[np.isin(frame, [_FR_PREPOST, _FR_PREPLY, _FR_PQUOTE, _FR_NREPOST])] = _FR_F

        def sel(fr: int) -> np.ndarray:
            return np.flatnonzero(frame == fr)

        for fr, keys in ((_FR_F, f_keys), (_FR_T, t_keys), (_FR_NEWS, n_keys)):
            i = sel(fr)
            self.stage1.append(
                _chunk(
                    len(i), author=src[i], t=t[i], tpl=self.templates(keys[i]), sf=sf[i], frame=fr
                )
            )
        i = sel(_FR_FI)
        self.stage1.append(
            _chunk(
                len(i),
                author=src[i],
                t=t[i],
                tpl=self.templates(fi_keys[i]),
                sf=sf[i],
                si=si[i],
                frame=_FR_FI,
            )
        )
        reply_keys = np.array([f"Fr.{ph}.{s}" for s in sk], dtype=object)
        fx_keys = np.array([f"Fx.{ph}.{s}" for s in sk], dtype=object)
        for fr, kind, rpool, body_keys, mention in (
            (_FR_FREPLY, _K_REPLY, _RP_FOCAL, reply_keys, -1),
            (_FR_FREPOST, _K_REPOST, _RP_FOCAL, None, -1),
            (_FR_FQUOTE, _K_QUOTE, _RP_FOCAL, fq_keys, -1),
            (_FR_PREPOST, _K_REPOST, _RP_PROXY, None, -1),
            (_FR_PREPLY, _K_REPLY, _RP_PROXY, fx_keys, 0),
            (_FR_PQUOTE, _K_QUOTE, _RP_PROXY, f_keys, -1),
            (_FR_NREPOST, _K_REPOST, _RP_NEWS, None, -1),
        ):
            i = sel(fr)
            self.stage2.append(
                _chunk(
                    len(i),
                    author=src[i],
                    t=t[i],
                    kind=kind,
                    tpl=self.templates(body_keys[i]) if body_keys is not None else -1,
                    sf=sf[i],
                    frame=fr,
                    rpool=rpool,
                    mention=mention,
                    fallback=self.templates(f_keys[i]),
                )
            )

    def inst_stream(self, w: int, n: int, seg: np.ndarray, disp_i: np.ndarray) -> None:
        """Posts addressing the institution (and only it) in window w."""
        # a null world without the institution's fall: the baseline's mix of senders throughout
        seg_w = (
            _INST_SEG_W
            if self.cfg.institution_drop
            else dict.fromkeys(_INST_SEG_W, _INST_SEG_W[_B])
        )
        src, _ = self.sources(w, n, seg, seg_w, _INST_ENGAGEMENT)
        if w == _B:
            draw = self.uniform(0.0, self.cs)
        elif w == _C:
            draw = self.truncexp(self.cs, self.ce, 2.2 * _DAY)
        else:
            draw = self.after_draw(1.1, 1.5, 3 * _DAY)
        t = self.times(n, draw)
        si = disp_i[src]
        frame = self.frames(
            {w * 10 + s: _FRAMES_INST[(w, s)] for s in (_NEU, _SUP, _CRI)},
            w * 10 + si.astype(np.int64),
        )
        ph = _PHASE[w]
        ik = np.array([_STANCE_KEY[int(s)] for s in si], dtype=object)
        i_keys = np.array([f"I.{ph}.{s}" for s in ik], dtype=object)
        ir_keys = np.array([f"Ir.{ph}.{s}" for s in ik], dtype=object)
        i = np.flatnonzero(frame == _FR_I)
        self.stage1.append(
            _chunk(
                len(i), author=src[i], t=t[i], tpl=self.templates(i_keys[i]), si=si[i], frame=_FR_I
            )
        )
        for fr, kind, body in ((_FR_IREPLY, _K_REPLY, ir_keys), (_FR_IREPOST, _K_REPOST, None)):
            i = np.flatnonzero(frame == fr)
            self.stage2.append(
                _chunk(
                    len(i),
                    author=src[i],
                    t=t[i],
                    kind=kind,
                    tpl=self.templates(body[i]) if body is not None else -1,
                    si=si[i],
                    frame=fr,
                    rpool=_RP_INST,
                    fallback=self.templates(i_keys[i]),
                )
            )

    # -- stage 2: find the post each reply, repost and quote refers to ----------------------------
    def resolve(self, orig: dict[str, np.ndarray], ev: dict[str, np.ndarray]) -> None:
        """Set ``ev['ref']`` to an earlier original; events without one become plain posts."""
        rng = self.rng
        n = len(ev["t"])
        ref = np.full(n, -1, dtype=np.int64)
        back = rng.geometric(0.35, size=n) - 1
        tpl = orig["tpl"]
        addresses_nobody = (orig["sf"] == _NA) & (orig["si"] == _NA)
        pools = {
            _RP_FOCAL: np.flatnonzero(orig["author"] == 0),
            _RP_PROXY: np.flatnonzero(orig["frame"] == -5),
            _RP_NEWS: np.flatnonzero(
                np.isin(tpl, np.concatenate([_POOL_IDS["N.c.neu"], _POOL_IDS["N.a.neu"]]))
            ),
            _RP_INST: np.flatnonzero(orig["author"] == 1),
        }
        spread = {_RP_FOCAL: 0.2, _RP_PROXY: 0.12, _RP_NEWS: 0.3, _RP_INST: 0.5}
        for rp, cand in pools.items():
            sel = np.flatnonzero(ev["rpool"] == rp)
            if len(sel) == 0 or len(cand) == 0:
                continue
            cand = cand[np.argsort(orig["t"][cand], kind="stable")]
            nb = np.searchsorted(orig["t"][cand], ev["t"][sel], side="left")
            b = np.minimum(rng.geometric(spread[rp], size=len(sel)) - 1, np.maximum(nb - 1, 0))
            ok = nb > 0
            ref[sel[ok]] = cand[(nb - 1 - b)[ok]]
        sel = np.flatnonzero(ev["rpool"] == _RP_AUTHOR)
        if len(sel):
            cand = np.flatnonzero(addresses_nobody)
            key = orig["author"][cand] * (1 << 32) + orig["t"][cand].astype(np.int64)
            order = np.argsort(key, kind="stable")
            cand, key = cand[order], key[order]
            tgt = ev["rtarget"][sel]
            pos = np.searchsorted(key, tgt * (1 << 32) + ev["t"][sel].astype(np.int64), side="left")
            start = np.searchsorted(key, tgt * (1 << 32), side="left")
            nb = pos - start
            b = np.minimum(back[sel], np.maximum(nb - 1, 0))
            ok = nb > 0
            ref[sel[ok]] = cand[(pos - 1 - b)[ok]]
        # no self-references, and nobody reposts the same post twice
        has = ref >= 0
        self_ref = np.zeros(n, dtype=bool)
        self_ref[has] = orig["author"][ref[has]] == ev["author"][has]
        ref[self_ref] = -1
        rep = np.flatnonzero((ev["kind"] == _K_REPOST) & (ref >= 0))
        pair = ev["author"][rep] * (1 << 40) + ref[rep]
        _, first = np.unique(pair, return_index=True)
        dup = np.ones(len(rep), dtype=bool)
        dup[first] = False
        ref[rep[dup]] = -1
        missing = ref < 0
        ev["ref"] = ref
        ev["kind"][missing] = _K_POST
        ev["tpl"][missing] = ev["fallback"][missing]
        ev["mention"][missing] = np.where(
            ev["rpool"][missing] == _RP_AUTHOR, ev["rtarget"][missing], -1
        )
        inst_only = missing & np.isin(ev["frame"], [_FR_IREPLY, _FR_IREPOST])
        ev["frame"][missing & (ev["frame"] >= 0)] = _FR_F
        ev["frame"][inst_only] = _FR_I

    # -- the whole case ---------------------------------------------------------------------------
    def run(self) -> Case:
        cfg, rng = self.cfg, self.rng
        self.acc = acc = _accounts(rng, cfg.accounts)
        self.fg = fg = _follow_graph(rng, acc["community"], acc["popularity"])
        n_total = cfg.interactions
        days_total = 2 * cfg.days + (self.ce - self.cs) / _DAY
        n_focal_own = int(np.clip(round(0.01 * n_total), 40, 12 * 2 * cfg.days))
        n_inst_own = int(np.clip(round(0.005 * n_total), 30, 8 * days_total))
        n_proxy = int(np.clip(round(0.0004 * n_total), 8, 25))
        n_fstream = round(cfg.focal_share * n_total)
        n_istream = round(_INST_PER_FOCAL * cfg.focal_share * n_total)
        n_plain = round(_SHARE_PLAIN * n_total)
        n_chat = n_total - n_focal_own - n_inst_own - 2 * n_proxy - n_fstream - n_istream - n_plain

        self.plain(n_plain)
        self.focal_own(n_focal_own)
        self.inst_own(n_inst_own)
        self.proxy_posts(n_proxy)
        self.chatter(n_chat)

        # posts addressing the focal account: baseline, crisis, after (rates planted per window)
        d = float(cfg.days)
        crisis_days = (self.ce - self.cs) / _DAY
        tau = 3.0
        fw = np.array([d, cfg.lift * crisis_days, 1.25 * d + 2.5 * tau * (1 - np.exp(-d / tau))])
        iw = np.array([d, 3.5 * crisis_days, 1.1 * d + 1.5 * tau * (1 - np.exp(-d / tau))])
        n_proxy_baseline = 6
        f_counts = rng.multinomial(n_fstream - n_proxy_baseline, fw / fw.sum())
        i_counts = rng.multinomial(n_istream, iw / iw.sum())

        followers = np.zeros(cfg.accounts, dtype=bool)
        followers[fg["focal_followers"]] = True
        seg = self.segments(followers)
        disp_f, disp_i = self.dispositions(_B, seg)
        # the proxies are regulars in the baseline: replies to the focal account's posts
        who = np.array([2, 2, 2, 3, 3, 3])
        self.emit_focal(
            _B,
            who,
            self.times(n_proxy_baseline, self.uniform(0.0, self.cs)),
            np.full(n_proxy_baseline, _SUP, dtype=np.int8),
            disp_i[who],
            np.full(n_proxy_baseline, _FR_FREPLY, dtype=np.int8),
        )
        baseline_authors = self.focal_stream(_B, int(f_counts[0]), seg, disp_f, disp_i)
        self.inst_stream(_B, int(i_counts[0]), seg, disp_i)
        prior = followers.copy()
        prior[baseline_authors] = True
        prior[who] = True
        seg = self.segments(prior)
        for w, fc, ic in ((_C, f_counts[1], i_counts[1]), (_A, f_counts[2], i_counts[2])):
            disp_f, disp_i = self.dispositions(w, seg)
            self.focal_stream(w, int(fc), seg, disp_f, disp_i)
            self.inst_stream(w, int(ic), seg, disp_i)

        orig = _concat(self.stage1)
        ev = _concat(self.stage2)
        self.resolve(orig, ev)
        posts = _concat([orig, ev])
        assert len(posts["t"]) == n_total, (len(posts["t"]), n_total)
        return self.finalise(posts)

    def finalise(self, posts: dict[str, np.ndarray]) -> Case:
        """Sort by time, assign tweet ids, render texts, extract entities, compute the truth."""
        rng, acc, fg, cfg = self.rng, self.acc, self.fg, self.cfg
        order = np.argsort(posts["t"], kind="stable")
        inv = np.empty_like(order)
        inv[order] = np.arange(len(order))
        posts = {k: v[order] for k, v in posts.items()}
        has = posts["ref"] >= 0
        posts["ref"][has] = inv[posts["ref"][has]]
        del posts["rpool"], posts["rtarget"], posts["fallback"]

        ms = (self.t0 * 1000 + np.floor(posts["t"] * 1000)).astype(np.int64)
        new_run = np.ones(len(ms), dtype=bool)
        new_run[1:] = ms[1:] != ms[:-1]
        run_start = np.maximum.accumulate(np.where(new_run, np.arange(len(ms)), 0))
        seq = np.arange(len(ms)) - run_start
        worker = rng.integers(0, 1024, size=len(ms))
        posts["id"] = ((ms - _EPOCH_SNOWFLAKE_MS) << 22) | (worker << 12) | seq
        posts["ts"] = ms // 1000  # epoch seconds
        posts["tag"] = rng.integers(len(_TAG_VARIANTS), size=len(ms)).astype(np.int8)

        handles = acc["handles"]
        posts["text"], ent = _render(posts, handles)
        lang = np.array(_TEXT_LANG, dtype=object)[np.maximum(posts["tpl"], 0)]
        rep = np.flatnonzero(posts["kind"] == _K_REPOST)
        lang[rep] = lang[posts["ref"][rep]]  # a repost has the language of what it repeats
        posts["lang"] = lang
        posts["entities"], posts["has_marker"] = ent, ent.has_marker

        indeg = np.bincount(fg["friends"], minlength=cfg.accounts)
        indeg[0] += len(fg["focal_followers"])
        indeg[1] += len(fg["inst_followers"])
        external = np.round(acc["popularity"] * 12 * rng.lognormal(0, 0.5, cfg.accounts))
        followers_count = (indeg + external).astype(np.int64)

        case = Case(
            config=cfg,
            windows=self.windows,
            handles=handles,
            account_ids=acc["ids"],
            names=acc["names"],
            bios=acc["bios"],
            roles=acc["roles"],
            community=acc["community"],
            followers_count=followers_count,
            focal_followers=fg["focal_followers"],
            focal_following=fg["focal_following"],
            institution_followers=fg["inst_followers"],
            proxies=(2, 3),
            posts=posts,
        )
        _assign_sources(case, rng)
        case.truth = _truth(case)
        return case


def generate(config: SynthConfig) -> Case:
    """Generate a synthetic case in memory (no files written).

    Parameters
    ----------
    config
        The parameters; the result is a pure function of them.

    Returns
    -------
    Case
        Accounts, follows, posts as column arrays sorted by time, and the planted truth.

    Raises
    ------
    NetsupportError
        If a parameter is out of range.
    """
    config.check()
    return _Gen(config).run()


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


# ------------------------------------------------------------------------------------------------
# Planted truth
# ------------------------------------------------------------------------------------------------


def _iso(epoch_seconds: int) -> str:
    return np.datetime_as_string(np.datetime64(int(epoch_seconds), "s"), unit="s") + "Z"


def canonical_posts(case: Case) -> Any:
    """Return the case's posts as a canonical posts DataFrame (what a perfect import yields).

    Examples
    --------
    >>> case = generate(SynthConfig(seed=3, accounts=300, interactions=1000, days=3))
    >>> df = canonical_posts(case)
    >>> len(df), sorted(df["kind"].unique())
    (1000, ['post', 'quote', 'reply', 'repost'])
    """
    import pandas as pd

    p, h = case.posts, np.array(case.handles, dtype=object)
    ent, n = p["entities"], len(p["id"])
    ref = p["ref"]
    has = ref >= 0
    target = np.full(len(ref), None, dtype=object)
    target[has] = h[p["author"][ref[has]]]
    target_post = np.full(len(ref), None, dtype=object)
    target_post[has] = p["id"][ref[has]].astype(str)
    return pd.DataFrame(
        {
            "post_id": p["id"].astype(str),
            "author": h[p["author"]],
            "author_id": case.account_ids[p["author"]].astype(str),
            "created_at": pd.to_datetime(p["ts"], unit="s", utc=True),
            "text": p["text"],
            "kind": np.array(_KIND_NAME, dtype=object)[p["kind"]],
            "target_post_id": target_post,
            "target_author": target,
            "mentions": [
                " ".join(dict.fromkeys(h[a] for _, _, a in ent.mentions(i))) for i in range(n)
            ],
            "hashtags": [
                " ".join(dict.fromkeys(t.lower() for _, _, t in ent.hashtags(i))) for i in range(n)
            ],
            "lang": p["lang"],
        }
    )


def _majority(counts: np.ndarray) -> np.ndarray:
    """Majority stance code per row of (neutral, supportive, critical) counts; ties are neutral."""
    top = counts.max(axis=1, keepdims=True)
    n_top = (counts == top).sum(axis=1)
    return np.where(n_top == 1, counts.argmax(axis=1), _NEU)


def _units(case: Case) -> dict[str, np.ndarray]:
    """Return one row per (post, side) addressing the focal account or the institution.

    A post addresses a side when it replies to, reposts or quotes a post of that side, mentions
    it, or (focal side) carries the campaign marker, and its author is not on that side: the
    units netsupport.interactions + netsupport.support derive from the same posts (a test checks
    the two agree). Columns: ``post`` (index), ``side`` (0 focal, 1 institution).
    """
    p = case.posts
    author, ref = p["author"], p["ref"]
    ref_author = np.where(ref >= 0, author[np.maximum(ref, 0)], -1)
    direct = (ref >= 0) & (ref_author != author)
    m_post, m_acc = p["entities"].mention_pairs()
    m_ok = m_acc != author[m_post]
    out_post, out_side = [], []
    for side, who in ((0, 0), (1, 1)):
        hit = direct & (ref_author == who)
        hit[m_post[m_ok & (m_acc == who)]] = True
        if side == 0:
            hit |= p["has_marker"]
        hit &= author != who
        idx = np.flatnonzero(hit)
        out_post.append(idx)
        out_side.append(np.full(len(idx), side, dtype=np.int8))
    post = np.concatenate(out_post)
    side = np.concatenate(out_side)
    order = np.lexsort((side, post))
    return {"post": post[order], "side": side[order]}


def _interaction_rows(case: Case) -> int:
    """Number of interaction rows netsupport derives from the posts (markers included)."""
    p = case.posts
    author, ref = p["author"], p["ref"]
    ref_author = np.where(ref >= 0, author[np.maximum(ref, 0)], -1)
    direct = (ref >= 0) & (ref_author != author)
    m_post, m_acc = p["entities"].mention_pairs()
    keep = (m_acc != author[m_post]) & ~(direct[m_post] & (m_acc == ref_author[m_post]))
    distinct = len(np.unique(m_post[keep] * len(case.handles) + m_acc[keep]))
    marker = int((p["has_marker"] & (author != 0)).sum())
    return int(direct.sum()) + distinct + marker


def _shares(source: np.ndarray, stance: np.ndarray) -> dict[str, Any]:
    """Post- and account-level stance shares; an account's stance is its majority (ties neutral)."""
    post_n = np.bincount(stance, minlength=3)
    accounts, inv = np.unique(source, return_inverse=True)
    counts = np.zeros((len(accounts), 3), dtype=np.int64)
    np.add.at(counts, (inv, stance), 1)
    maj = _majority(counts) if len(counts) else np.zeros(0, dtype=np.int64)
    acc_n = np.bincount(maj, minlength=3)
    tot_p, tot_a = max(int(post_n.sum()), 1), max(len(maj), 1)
    ties = int(((counts == counts.max(axis=1, keepdims=True)).sum(axis=1) > 1).sum())
    return {
        "post_level": {
            "n": int(post_n.sum()),
            **{_STANCE_NAME[s]: post_n[s] / tot_p for s in (_NEU, _SUP, _CRI)},
            "net_support": (post_n[_SUP] - post_n[_CRI]) / tot_p,
        },
        "account_level": {
            "n": len(maj),
            **{_STANCE_NAME[s]: acc_n[s] / tot_a for s in (_NEU, _SUP, _CRI)},
            "net_support": (acc_n[_SUP] - acc_n[_CRI]) / tot_a,
            "ties": ties,
        },
    }


def planted_parameters(cfg: SynthConfig) -> dict[str, Any]:
    """Return the parameters the generator planted: the truth of the simulation study.

    These are inputs of the generator, not measurements of what it generated: a simulation that
    compares netsupport's estimates with them is not circular (bench/simulation.py).

    Examples
    --------
    >>> p = planted_parameters(SynthConfig(lift=1.0, tie_effect=False))
    >>> p["lift"], p["tie_effect"]["difference"], p["role_order"]["media_delay_hours"]
    (1.0, 0.0, 24.0)
    """
    prior = _FOCAL_DISP[_C][_SEG_PRIOR][1]
    new = _FOCAL_DISP[_C][_SEG_NEW if cfg.tie_effect else _SEG_PRIOR][1]
    return {
        "lift": float(cfg.lift),
        "tie_effect": {
            "planted": bool(cfg.tie_effect),
            "supportive_given_prior_tie": prior,
            "supportive_given_no_tie": new,
            "difference": round(prior - new, 6),
            "note": "crisis disposition towards the focal account of accounts outside the "
            "hostile community and the media (those keep their own dispositions)",
        },
        "role_order": {
            "planted": bool(cfg.role_order),
            "media_delay_hours": 24.0 if cfg.role_order else 0.0,
        },
        "institution_drop": {
            "planted": bool(cfg.institution_drop),
            "net_support_change": None if cfg.institution_drop else 0.0,
            "note": "planted through dispositions conditional on the focal one; no closed-form "
            "value of the change when planted, 0 when not",
        },
    }


def _truth(case: Case) -> dict[str, Any]:
    """Everything planted: ``parameters`` (the generator's inputs, the simulation's truth), and
    the rest realised on the generated posts with netsupport's definitions (checks of the
    generator and of recovery on one case; not a truth to score netsupport's estimators by)."""
    cfg, p, win = case.config, case.posts, case.windows
    h = np.array(case.handles, dtype=object)
    units = _units(case)
    post, side = units["post"], units["side"]
    planted = np.where(side == 0, p["sf"][post], p["si"][post]).astype(np.int64)
    unplanted = int((planted == _NA).sum())
    planted[planted == _NA] = _NEU
    ts = p["ts"][post]
    source = p["author"][post]
    edges = [int(x.timestamp()) for x in (win.baseline_start, win.crisis_start, win.crisis_end)]
    edges.append(int(win.after_end.timestamp()))
    wcode = np.searchsorted(np.array(edges), ts, side="right") - 1  # 0,1,2 inside
    sides = (Target.FOCAL.value, Target.INSTITUTION.value)

    attention: dict[str, Any] = {}
    stance: dict[str, Any] = {}
    reputation: dict[str, Any] = {}
    for k, side_name in enumerate(sides):
        a: dict[str, Any] = {}
        st: dict[str, Any] = {}
        for w_i, w in enumerate(_WINDOWS):
            sel = (side == k) & (wcode == w_i)
            days = win.days(w)
            a[w.value] = {
                "interactions": int(sel.sum()),
                "accounts": len(np.unique(source[sel])),
                "days": days,
                "interactions_per_day": sel.sum() / days,
            }
            st[w.value] = _shares(source[sel], planted[sel])
        base_rate = max(a[Window.BASELINE.value]["interactions_per_day"], 1e-12)
        a["lift"] = a[Window.CRISIS.value]["interactions_per_day"] / base_rate
        a["after_ratio"] = a[Window.AFTER.value]["interactions_per_day"] / base_rate
        attention[side_name], stance[side_name] = a, st
        reputation[side_name] = {
            level: st[Window.CRISIS.value][level]["net_support"]
            - st[Window.BASELINE.value][level]["net_support"]
            for level in ("post_level", "account_level")
        }
    attention[Target.FOCAL.value]["lift_parameter"] = cfg.lift

    # crisis supporters (majority supportive) and their prior ties: a follow, or any baseline
    # interaction with the focal account in either direction
    fc = (side == 0) & (wcode == 1)
    accounts, inv = np.unique(source[fc], return_inverse=True)
    counts = np.zeros((len(accounts), 3), dtype=np.int64)
    np.add.at(counts, (inv, planted[fc]), 1)
    supporters = accounts[_majority(counts) == _SUP] if len(accounts) else accounts
    tied = np.zeros(len(h), dtype=bool)
    tied[case.focal_followers] = True
    tied[source[(side == 0) & (wcode == 0)]] = True
    author, ref = p["author"], p["ref"]
    p_w = np.searchsorted(np.array(edges), p["ts"], side="right") - 1
    by_focal = (author == 0) & (p_w == 0)
    tied[author[ref[by_focal & (ref >= 0)]]] = True
    m_post, m_acc = p["entities"].mention_pairs()
    tied[m_acc[by_focal[m_post]]] = True
    n_sup = len(supporters)
    n_tied = int(tied[supporters].sum())

    # first crisis post addressing the focal account, by role
    cs = int(win.crisis_start.timestamp())
    first: dict[str, Any] = {}
    roles_fc = case.roles[source[fc]]
    for r in Role:
        t = ts[fc][roles_fc == r.value]
        if len(t):
            first[r.value] = {
                "at": _iso(int(t.min())),
                "hours_after_crisis_start": (t.min() - cs) / 3600,
            }
    media_first = min(
        (
            first[r]["hours_after_crisis_start"]
            for r in (Role.MEDIA.value, Role.JOURNALIST.value)
            if r in first
        ),
        default=None,
    )
    citizen_first = first.get(Role.CITIZEN.value, {}).get("hours_after_crisis_start")

    # the focal account's silence, and the reach of supportive posts about it during the silence
    focal_ts = np.sort(p["ts"][author == 0])
    ce = int(win.crisis_end.timestamp())
    last_before = int(focal_ts[focal_ts < cs].max())
    first_after = int(focal_ts[focal_ts >= ce].min())
    sup_post = np.zeros(len(author), dtype=bool)
    sup_post[post[(side == 0) & (planted == _SUP) & (ts >= last_before) & (ts < first_after)]] = (
        True
    )
    resp = np.flatnonzero(ref >= 0)
    resp = resp[sup_post[ref[resp]] & (author[resp] != author[ref[resp]])]
    pairs = np.unique(author[ref[resp]] * len(h) + author[resp])
    reach = np.bincount(pairs // len(h), minlength=len(h))
    top = np.lexsort((h.astype(str), -reach))[:5]

    comm_names = np.array(COMMUNITIES, dtype=object)[case.community]
    roles, role_n = np.unique(case.roles.astype(str), return_counts=True)
    pid = p["id"].astype(str)
    return jsonable(
        {
            "generator": {
                "module": "netsupport.synth",
                "config": asdict(cfg),
                "note": "synthetic data: every account, post and number here is made up",
            },
            "parameters": planted_parameters(cfg),
            "study": {
                "focal": FOCAL,
                "institution": INSTITUTION,
                "markers": ["#" + MARKER],
                "proxies": [case.handles[i] for i in case.proxies],
            },
            "windows": win.as_dict(),
            "counts": {
                "accounts": cfg.accounts,
                "posts": len(author),
                "interaction_rows": _interaction_rows(case),
                "units": len(post),
                "units_without_planted_stance": unplanted,
                "focal_followers": len(case.focal_followers),
                "focal_following": len(case.focal_following),
                "institution_followers": len(case.institution_followers),
            },
            "files": {
                "jsonl_posts": int(p["in_jsonl"].sum()),
                "archive_posts": int(p["in_archive"].sum()),
                "nodexl_posts": int(p["in_nodexl"].sum()),
                "in_jsonl_and_archive": int((p["in_jsonl"] & p["in_archive"]).sum()),
                "in_jsonl_and_nodexl": int((p["in_jsonl"] & p["in_nodexl"]).sum()),
                "archive_only": int((p["in_archive"] & ~p["in_jsonl"]).sum()),
                "nodexl_only": int((p["in_nodexl"] & ~p["in_jsonl"]).sum()),
                "unique_posts": len(author),
            },
            "communities": {
                "names": list(COMMUNITIES),
                "sizes": {c: int((case.community == i).sum()) for i, c in enumerate(COMMUNITIES)},
                "mixing": _MIXING.tolist(),
            },
            "roles": {str(r): int(k) for r, k in zip(roles, role_n, strict=True)},
            "attention": attention,
            "stance": stance,
            "reputational_change": reputation,
            "composition": {
                "supporters": n_sup,
                "prior_tie": n_tied,
                "prior_tie_share": n_tied / n_sup if n_sup else None,
            },
            "first_mention": {
                "crisis_by_role": first,
                "media_or_journalist_hours": media_first,
                "citizen_hours": citizen_first,
                "media_after_citizens": (
                    media_first is not None
                    and citizen_first is not None
                    and media_first > citizen_first
                ),
            },
            "silence": {
                "last_post_before": _iso(last_before),
                "first_post_after": _iso(first_after),
            },
            "proxies": {
                "handles": [case.handles[i] for i in case.proxies],
                "reach_top": [
                    {"handle": case.handles[i], "reach": int(reach[i])} for i in top if reach[i] > 0
                ],
            },
            "community": dict(sorted(zip(case.handles, comm_names.tolist(), strict=True))),
            "post_stance": {
                name: dict(
                    sorted(
                        zip(
                            pid[post[side == k]].tolist(),
                            [_STANCE_NAME[int(x)] for x in planted[side == k]],
                            strict=True,
                        )
                    )
                )
                for k, name in enumerate(sides)
            },
        }
    )


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


# ------------------------------------------------------------------------------------------------
# Study file, lexicon, labels, truth; the whole case on disk
# ------------------------------------------------------------------------------------------------

LEXICON_TOML = """\
# Study lexicon for the synthetic #standwithlane case (extends netsupport's default lexicon).
# Written the way a researcher would after reading a sample of the posts: the campaign hashtag,
# the recurring expressions of support and critique in this case that the general default
# lexicon does not know, and the question forms that make a post neutral. Phrases are whole
# lower-case words; "stem*" matches a prefix.

[support]
phrases = [
  "miss you", "miss him", "missing", "we are with you", "let him tweet", "best thing about",
  "more sense", "worth a follow", "worth following", "good to have you back", "glad",
  "keep talking", "honest voices",
]

[critique]
phrases = [
  "good riddance", "about time someone", "lost all respect", "own goal", "above the rules",
  "bigger than the job", "should not be on twitter", "tweet less", "lecturing", "shambles",
  "nobody believes", "lost my trust", "lost a lot of goodwill", "not good enough",
  "stick to policing", "still waiting", "never should have", "too little too late",
]

# Questions and requests for information: neutral unless a support or critique phrase applies.
[neutral]
phrases = [
  "anyone know", "does anyone", "what happened", "is it true", "any update", "any idea",
  "any news", "how do i", "what number", "is there", "when will",
]

[markers]
supportive = ["standwithlane"]
critical = []
"""


def _study_toml(cfg: SynthConfig, windows: Windows) -> str:
    report_dir = cfg.report_dir or f"reports/{cfg.name}"
    w = windows.as_dict()
    inputs = [
        (JSONL_NAME, "twitter-v2", None),
        (ARCHIVE_NAME, "twitter-archive", None),
        (NODEXL_NAME, "nodexl", None),
        (FOCAL_FOLLOWERS_NAME, "followers", FOCAL),
        (INSTITUTION_FOLLOWERS_NAME, "followers", INSTITUTION),
    ]
    lines = [
        "# Synthetic case study written by `netsupport synth` (fictional accounts and posts).",
        f"# Regenerate: netsupport synth --out DIR --seed {cfg.seed} --accounts {cfg.accounts} "
        f"--interactions {cfg.interactions} --days {cfg.days} --focal-share {cfg.focal_share:g}",
        "# What was planted (communities, stance of every post, proxies, lift) is in truth.json.",
        "",
        "[study]",
        f'name = "{cfg.name}"',
        f'focal = ["{FOCAL}"]',
        f'institution = ["{INSTITUTION}"]',
        f'markers = ["#{MARKER}"]',
        f'accounts = "{ACCOUNTS_NAME}"',
        "",
        "[windows]",
        f'crisis_start = "{w["crisis_start"]}"',
        f'crisis_end = "{w["crisis_end"]}"',
        f"baseline_days = {cfg.days}",
        f"after_days = {cfg.days}",
    ]
    for path, fmt, account in inputs:
        lines += ["", "[[inputs]]", f'path = "{path}"', f'format = "{fmt}"']
        if account:
            lines += [f'account = "{account}"', 'direction = "followers"']
    lines += [
        "",
        "[communities]",
        "# leiden: python-louvain's greedy moves can merge two planted communities around the",
        "# focal account (see docs/case-study.md); leiden refines them and is deterministic too",
        'algorithm = "leiden"',
        "resolution = 1.0",
        "seed = 42",
        "",
        "[stance]",
        'lexicon = "lexicon.toml"',
        'labels = "labels.csv"',
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


#: Hand codes written with a generated case (a probability sample of its (post, side) units).
LABELS_N = 420


def _labels(case: Case, n: int = LABELS_N) -> Any:
    """Planted stance codes for ``n`` (post, side) units: a probability sample stratified by
    side x window (equal allocation, a simple random sample in each stratum), as a coding
    sheet would draw it; ``inclusion_probability`` = n_h / N_h is written for every code so the
    codes can weight figures back to the data. Units outside the three windows are not drawn."""
    import pandas as pd

    from .windows import assign_windows

    rng = np.random.default_rng([case.config.seed, 7])
    when = pd.Series(
        pd.to_datetime(case.posts["ts"], unit="s", utc=True), index=case.posts["id"].astype(str)
    )
    rows = []
    for side in (Target.FOCAL.value, Target.INSTITUTION.value):
        for pid, st in case.truth["post_stance"][side].items():
            rows.append((pid, side, st))
    df = pd.DataFrame(rows, columns=["post_id", "target_side", "stance"])
    df["window"] = assign_windows(
        pd.Series(when.reindex(df["post_id"]).to_numpy()), case.windows
    ).to_numpy()
    df = df[df["window"].notna()].astype({"window": object})
    strata = [g for _, g in df.groupby(["target_side", "window"], sort=True)]
    sizes = np.array([len(g) for g in strata])
    take = np.zeros(len(strata), dtype=int)
    left = min(n, len(df))
    while left > 0:  # equal shares; a small stratum gives its remainder to the others
        open_ = np.flatnonzero(take < sizes)
        share = max(left // len(open_), 1)
        for j in open_:
            k = min(share, sizes[j] - take[j], left)
            take[j] += k
            left -= k
            if left == 0:
                break
    picked = []
    for g, k in zip(strata, take, strict=True):
        if k:
            part = g.iloc[np.sort(rng.choice(len(g), size=k, replace=False))].copy()
            part["inclusion_probability"] = round(k / len(g), 6)
            picked.append(part)
    out = pd.concat(picked, ignore_index=True)
    out["sample"] = "probability"
    text = pd.Series(case.posts["text"], index=case.posts["id"].astype(str))
    out["text"] = text.reindex(out["post_id"]).to_numpy()
    out = out.sort_values(["post_id", "target_side"], kind="mergesort").reset_index(drop=True)
    return out[["post_id", "target_side", "stance", "inclusion_probability", "sample", "text"]]


def write_case(case: Case, out_dir: str | Path, *, platforms: bool = False) -> SynthResult:
    """Write a generated case to ``out_dir`` in every import format, with study, lexicon, labels.

    Files: ``tweets.jsonl`` (twarc2 API v2 pages), ``twitter-archive-inspector_lane.zip``
    (personal archive), ``nodexl-standwithlane.csv`` (NodeXL edges), two follower lists,
    ``accounts.csv``, ``study.toml``, ``lexicon.toml``, ``labels.csv`` and ``truth.json``; then
    with ``platforms``, the Mastodon and Telegram files, their studies and a cross-platform study
    (:mod:`netsupport.synth_platforms`), and the Bluesky and Reddit files with a study each
    (:mod:`netsupport.synth_bsky_reddit`).
    """
    from .textsafe import write_csv, write_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = _TweetData(case)
    _write_jsonl(case, data, out / JSONL_NAME)
    _write_archive(case, data, out / ARCHIVE_NAME)
    _write_nodexl(case, data, out / NODEXL_NAME)
    _write_followers(case, case.focal_followers, out / FOCAL_FOLLOWERS_NAME)
    _write_followers(case, case.institution_followers, out / INSTITUTION_FOLLOWERS_NAME)
    _write_accounts(case, out / ACCOUNTS_NAME)
    _atomic(out / "lexicon.toml", LEXICON_TOML.encode("utf-8"))
    write_csv(_labels(case), out / "labels.csv")
    write_json(case.truth, out / "truth.json")
    study_text = _study_toml(case.config, case.windows)
    _atomic(out / "study.toml", study_text.encode("utf-8"))
    platform_files = []
    if platforms:  # Mastodon, Telegram, a cross-platform study; Bluesky, Reddit (issue #16)
        from .synth_bsky_reddit import write_platforms as write_bluesky_reddit
        from .synth_platforms import write_platforms

        platform_files = write_platforms(case, out, study_text)
        platform_files += list(write_bluesky_reddit(case, out))
    names = [
        JSONL_NAME,
        ARCHIVE_NAME,
        NODEXL_NAME,
        FOCAL_FOLLOWERS_NAME,
        INSTITUTION_FOLLOWERS_NAME,
        ACCOUNTS_NAME,
        "study.toml",
        "lexicon.toml",
        "labels.csv",
        "truth.json",
        *platform_files,
    ]
    return SynthResult(
        out_dir=out,
        study=out / "study.toml",
        files=tuple((n, (out / n).stat().st_size) for n in names),
        posts=len(case.posts["id"]),
        accounts=len(case.handles),
    )


def synthesize(out_dir: str | Path, config: SynthConfig, *, platforms: bool = False) -> SynthResult:
    """Generate a case from ``config`` and write it to ``out_dir`` (see :func:`write_case`).

    Examples
    --------
    >>> import tempfile
    >>> r = synthesize(tempfile.mkdtemp(), SynthConfig(seed=2, accounts=300, interactions=1000))
    >>> [name for name, size in r.files][:3]
    ['tweets.jsonl', 'twitter-archive-inspector_lane.zip', 'nodexl-standwithlane.csv']
    """
    return write_case(generate(config), out_dir, platforms=platforms)

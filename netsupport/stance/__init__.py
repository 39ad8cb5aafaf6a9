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
>>> from netsupport.stance import Classifier
>>> c = Classifier(focal=["inspector"], institution=["force"])
>>> scored = c.score_text("Shame on @force for silencing @inspector")
>>> scored["focal"], scored["institution"]
(('supportive', 1.0, 'victim:silencing'), ('critical', -1.0, 'lexicon:shame on'))
>>> c.score_text("@inspector is not a disgrace")["focal"]
('supportive', 1.0, 'lexicon:disgrace*')
"""

from __future__ import annotations

from .labels import (
    SHEET_COLUMNS,
    LabelsFile,
    agreement,
    apply_labels,
    coder_agreement,
    coding_sheet,
    load_labels,
    match_labels,
    read_labels,
)
from .rules import RULE_LABEL, STANCE_COLUMNS, STANCE_ORDER, Classifier, Lexicon, load_lexicon
from .tables import (
    POST_COLUMNS,
    StanceResult,
    StanceSpec,
    disagreements_table,
    object_strings,
    read_tables,
    rule_counts,
    run_stance,
    stance_interactions,
    stance_summary,
    stance_table,
)

__all__ = [
    "POST_COLUMNS",
    "RULE_LABEL",
    "SHEET_COLUMNS",
    "STANCE_COLUMNS",
    "STANCE_ORDER",
    "Classifier",
    "LabelsFile",
    "Lexicon",
    "StanceResult",
    "StanceSpec",
    "agreement",
    "apply_labels",
    "coder_agreement",
    "coding_sheet",
    "disagreements_table",
    "load_labels",
    "load_lexicon",
    "match_labels",
    "object_strings",
    "read_labels",
    "read_tables",
    "rule_counts",
    "run_stance",
    "stance_interactions",
    "stance_summary",
    "stance_table",
]

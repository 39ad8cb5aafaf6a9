"""Stance of each interaction towards the focal account and the institution.

The package, in the order a study uses it (METHODS.md, section "Stance"):

- :mod:`~netsupport.stance.rules`: the transparent zero-shot rules over VADER and the study
  lexicon; every decision names the rule that made it (the rules are listed there).
- :mod:`~netsupport.stance.labels`: hand codes (labels files, coder agreement) and the coding
  sheet drawn as a probability sample.
- :mod:`~netsupport.stance.model`: the per-study classifier learned from the hand codes, and
  :mod:`~netsupport.stance.supervised`, which applies it to the audit table.
- :mod:`~netsupport.stance.validation`: its cross-validated error and the error-corrected shares.
- :mod:`~netsupport.stance.tables`: the study-level audit table of every interaction.

Examples
--------
>>> from netsupport.stance import Classifier
>>> c = Classifier(focal=["inspector"], institution=["force"])
>>> c.score_text("Well done @inspector")["focal"]
('supportive', 1.0, 'lexicon:well done')
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

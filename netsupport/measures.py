"""Names of the headline measures a study may declare primary (``[study] primary``).

One list, read by the study file (to refuse unknown names) and by the support package (to
label the headline primary or exploratory). See METHODS.md, "Primary and exploratory measures".
"""

from __future__ import annotations

__all__ = ["PRIMARY_MEASURES", "SIDED", "SIDES", "valid_primary"]

#: Headline measures, in the order the headline lists them. Each measured per side (focal,
#: institution) can be declared for one side as ``name.focal`` / ``name.institution``.
PRIMARY_MEASURES = (
    "attention_lift",
    "attention_level_change",
    "net_support_crisis",
    "reputational_change",
    "persistence_attention",
    "prior_tie_share",
    "prior_tie_odds_ratio",
    "breadth",
    "top_proxy",
)
#: Measures with a value per side.
SIDED = (
    "attention_lift",
    "attention_level_change",
    "net_support_crisis",
    "reputational_change",
    "persistence_attention",
)
SIDES = ("focal", "institution")


def valid_primary(name: str) -> bool:
    """Return whether ``name`` names a headline measure (optionally ``.focal``/``.institution``).

    Examples
    --------
    >>> valid_primary("attention_lift.focal"), valid_primary("prior_tie_share.focal")
    (True, False)
    """
    base, _, side = name.partition(".")
    if base not in PRIMARY_MEASURES:
        return False
    return not side or (base in SIDED and side in SIDES)

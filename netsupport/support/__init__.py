"""The support measures: attention, stance shares, reputational change, who supported and how.

Every metric is a pure function of tables (pandas DataFrames) and returns plain values; the
top-level :func:`compute_metrics` assembles them into the ``metrics.json`` structure documented
in its docstring and in METHODS.md. A metric that the data cannot support is reported as
``{"status": "not measured", "reason": "..."}``, never as NaN or as a zero passed off as a finding.

The unit of analysis is a *post addressing a side*: one row per (post, side) where side is the
focal account or the institution (a reply that also mentions the account counts once). Its stance
comes from :mod:`netsupport.stance`; a hand label or a repost decides over the text.

Examples
--------
>>> import pandas as pd
>>> from netsupport.support import majority_stance, rate_ratio
>>> r = rate_ratio(30, 5.0, 20, 10.0)
>>> r["value"], r["low"] < 3.0 < r["high"]
(3.0, True)
>>> counts = pd.DataFrame({"supportive": [2, 1], "critical": [1, 1], "neutral": [0, 0]})
>>> majority_stance(counts).tolist()
['supportive', 'neutral']
"""

from __future__ import annotations

from .attention import attention, lift, persistence
from .common import AMPLIFIER_KINDS, METRICS_VERSION, not_measured, proportion_ci, rate_ratio
from .communities import (
    baseline_communities,
    breadth,
    communities_from_edges,
    community_mobilisation,
)
from .metrics import (
    Analysis,
    MetricInputs,
    analyse,
    analyse_inputs,
    compute_metrics,
    headline_rows,
    metric_inputs,
    run_support,
)
from .proxies import (
    amplifiers,
    crisis_pagerank,
    focal_silence,
    pagerank_from_edges,
    proxies,
    proxy_reach,
)
from .roles import account_roles, roles_attention
from .shares import (
    UNIT_COLUMNS,
    UNIT_WEIGHT,
    compress_units,
    majority_stance,
    post_units,
    reputational_change,
    stance_shares,
)
from .ties import prior_ties, supporter_composition, supporters

__all__ = [
    "AMPLIFIER_KINDS",
    "METRICS_VERSION",
    "UNIT_COLUMNS",
    "UNIT_WEIGHT",
    "Analysis",
    "MetricInputs",
    "account_roles",
    "amplifiers",
    "analyse",
    "analyse_inputs",
    "attention",
    "baseline_communities",
    "breadth",
    "communities_from_edges",
    "community_mobilisation",
    "compress_units",
    "compute_metrics",
    "crisis_pagerank",
    "focal_silence",
    "headline_rows",
    "lift",
    "majority_stance",
    "metric_inputs",
    "not_measured",
    "pagerank_from_edges",
    "persistence",
    "post_units",
    "prior_ties",
    "proportion_ci",
    "proxies",
    "proxy_reach",
    "rate_ratio",
    "reputational_change",
    "roles_attention",
    "run_support",
    "stance_shares",
    "supporter_composition",
    "supporters",
]

"""The offline ranking metrics, where the evaluation protocols have always imported them.

They live in :mod:`workbench.metrics`, below both the scorers (whose tuning uses them) and
the evaluation package (which imports the scorers); this module re-exports them.
"""

from workbench.metrics import (
    METRICS,
    coverage_at_k,
    hit_rate_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    ranking_metrics,
    recall_at_k,
    top_k_matrix,
)

__all__ = [
    "METRICS", "coverage_at_k", "hit_rate_at_k", "mrr_at_k", "ndcg_at_k", "precision_at_k",
    "ranking_metrics", "recall_at_k", "top_k_matrix",
]

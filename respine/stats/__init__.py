"""Statistical methods: arrays and frames in, result objects out; never a Trial or a Selection.

The package namespace gathers the common tests (``stats.welch_t``, ``stats.compare_binary``, ...);
the longer methods live in their modules (``stats.mmrm``, ``stats.stratified``, ``stats.bayes``, ...)."""


from respine.model.results import (
    AnalysisResult,
    BinarySummary,
    ContinuousSummary,
    Contrast,
    DoseResponse,
)
from respine.stats.means import (
    Z975,
    AncovaResult,
    ancova,
    complete_rows,
    dose_trend,
    summarise_continuous,
    welch_t,
)
from respine.stats.proportions import (
    BINARY_TESTS,
    chi_square_2x2,
    compare_binary,
    fisher_exact_2x2,
    newcombe_difference_ci,
    summarise_binary,
    wilson_ci,
)

__all__ = [
    "BINARY_TESTS",
    "Z975",
    "AnalysisResult",
    "AncovaResult",
    "BinarySummary",
    "ContinuousSummary",
    "Contrast",
    "DoseResponse",
    "ancova",
    "chi_square_2x2",
    "compare_binary",
    "complete_rows",
    "dose_trend",
    "fisher_exact_2x2",
    "newcombe_difference_ci",
    "summarise_binary",
    "summarise_continuous",
    "welch_t",
    "wilson_ci",
]

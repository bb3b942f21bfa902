"""Statistical methods: arrays and frames in, result objects out; never a Trial or a Selection.

The package namespace gathers the common tests (``stats.welch_t``, ``stats.compare_binary``, ...);
the longer methods live in their modules (``stats.mmrm``, ``stats.stratified``, ``stats.bayes``,
``stats.survival``, ...)."""


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
from respine.stats.nonparametric import VanElteren, van_elteren
from respine.stats.proportions import (
    BINARY_TESTS,
    Homogeneity,
    StratifiedRiskDifference,
    breslow_day,
    chi_square_2x2,
    clopper_pearson_ci,
    compare_binary,
    exact_odds_ratio_ci,
    fisher_exact_2x2,
    miettinen_nurminen_ci,
    newcombe_difference_ci,
    stratified_miettinen_nurminen,
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
    "Homogeneity",
    "StratifiedRiskDifference",
    "VanElteren",
    "ancova",
    "breslow_day",
    "chi_square_2x2",
    "clopper_pearson_ci",
    "compare_binary",
    "complete_rows",
    "dose_trend",
    "exact_odds_ratio_ci",
    "fisher_exact_2x2",
    "miettinen_nurminen_ci",
    "newcombe_difference_ci",
    "stratified_miettinen_nurminen",
    "summarise_binary",
    "summarise_continuous",
    "van_elteren",
    "welch_t",
    "wilson_ci",
]

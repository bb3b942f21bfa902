# R reference values for the MMRM breadth of respine.stats.mmrm: heterogeneous and ante-dependence
# covariance structures, the spatial exponential structure in visit time, covariance by arm,
# empirical (sandwich) standard errors and type III F tests.
#
# Data: mmrm's own example data `fev_data` (simulated FEV1 of 197 subjects at 4 visits,
# arms PBO / TRT), written unchanged to fev_data.csv beside this script, with one column added:
# `month`, the visit time VIS1..VIS4 -> 1, 3, 6, 12 (unequally spaced, as a trial's visit
# schedule), used as the coordinate of the spatial exponential structure.
#
# Usage (from the repository root):
#   R_LIBS_USER=/work/rlib Rscript tests/reference_data/mmrm_breadth/mmrm_breadth.R \
#       tests/reference_data/mmrm_breadth > tests/reference_data/mmrm_breadth/values.json
#
# Every block carries the exact R call ("call") that produced its numbers; the top level carries
# the R and package versions.

suppressPackageStartupMessages({
  library(jsonlite)
  library(emmeans)
  library(mmrm)
})

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[[1]] else "."

d <- fev_data
d$month <- c(1, 3, 6, 12)[as.integer(d$AVISIT)]
write.csv(d, file.path(out_dir, "fev_data.csv"), row.names = FALSE, na = "")

# Fixed effects as respine fits them: arm x visit + baseline x visit + covariates.
FIXED <- "FEV1 ~ ARMCD * AVISIT + FEV1_BL * AVISIT + RACE + WEIGHT"
COV_TERMS <- list(
  us = "us(AVISIT | USUBJID)", cs = "cs(AVISIT | USUBJID)", ar1 = "ar1(AVISIT | USUBJID)",
  toep = "toep(AVISIT | USUBJID)",
  csh = "csh(AVISIT | USUBJID)", toeph = "toeph(AVISIT | USUBJID)", ar1h = "ar1h(AVISIT | USUBJID)",
  ad = "ad(AVISIT | USUBJID)", adh = "adh(AVISIT | USUBJID)", sp_exp = "sp_exp(month | USUBJID)",
  us_by_arm = "us(AVISIT | ARMCD / USUBJID)", csh_by_arm = "csh(AVISIT | ARMCD / USUBJID)",
  ar1_by_arm = "ar1(AVISIT | ARMCD / USUBJID)"
)
OPT <- "optimizer = \"BFGS\", optimizer_control = list(reltol = 1e-15, maxit = 2000)"

emm_rows <- function(x) {
  s <- as.data.frame(summary(x, infer = c(TRUE, TRUE), level = 0.95))
  names(s)[names(s) %in% c("emmean", "estimate")] <- "estimate"
  names(s)[names(s) == "lower.CL"] <- "ci_low"
  names(s)[names(s) == "upper.CL"] <- "ci_high"
  names(s)[names(s) == "p.value"] <- "p_value"
  names(s)[names(s) == "SE"] <- "se"
  names(s)[names(s) == "AVISIT"] <- "visit"
  names(s)[names(s) == "ARMCD"] <- "arm"
  keep <- intersect(c("arm", "visit", "estimate", "se", "df", "ci_low", "ci_high", "p_value"), names(s))
  s <- s[keep]
  for (col in intersect(c("arm", "visit"), names(s))) s[[col]] <- as.character(s[[col]])
  s
}

fit_one <- function(cov, method, vcov = NULL) {
  f <- as.formula(paste(FIXED, "+", COV_TERMS[[cov]]))
  fit <- if (is.null(vcov)) {
    mmrm(f, data = d, reml = TRUE, method = method, optimizer = "BFGS",
         optimizer_control = list(reltol = 1e-15, maxit = 2000))
  } else {
    mmrm(f, data = d, reml = TRUE, method = method, vcov = vcov, optimizer = "BFGS",
         optimizer_control = list(reltol = 1e-15, maxit = 2000))
  }
  stopifnot(component(fit, "convergence") == 0)
  em <- emmeans(fit, ~ ARMCD | AVISIT, weights = "proportional")
  con <- contrast(emmeans(fit, ~ ARMCD | AVISIT), method = "trt.vs.ctrl", ref = 1, adjust = "none")
  a3 <- mmrm:::Anova.mmrm(fit, type = "III")
  anova <- data.frame(term = rownames(a3), num_df = a3$Df, denom_df = a3$Res.Df, f_stat = a3$F,
                      p_value = a3$`Pr(>F)`)
  call <- paste0("fit <- mmrm(", FIXED, " + ", COV_TERMS[[cov]], ", data = d, reml = TRUE, method = \"",
                 method, "\"", if (!is.null(vcov)) paste0(", vcov = \"", vcov, "\"") else "", ", ",
                 OPT, "); emmeans(fit, ~ ARMCD | AVISIT, weights = \"proportional\"); ",
                 "contrast(emmeans(fit, ~ ARMCD | AVISIT), method = \"trt.vs.ctrl\", ref = 1, ",
                 "adjust = \"none\"); mmrm:::Anova.mmrm(fit, type = \"III\")")
  vc <- VarCorr(fit)
  list(
    call = call,
    reml_loglik = as.numeric(logLik(fit)),
    aic = AIC(fit),
    theta = unname(component(fit, "theta_est")),
    n_obs = component(fit, "n_obs"),
    n_subjects = component(fit, "n_subjects"),
    covariance = if (is.list(vc)) lapply(vc, function(m) unname(as.matrix(m))) else unname(as.matrix(vc)),
    lsmeans = emm_rows(em),
    contrasts = emm_rows(con),
    type3 = anova
  )
}

fits <- list()
for (cov in names(COV_TERMS)) {
  fits[[paste0(cov, "_satterthwaite")]] <- fit_one(cov, "Satterthwaite")
}
for (cov in c("csh", "toeph", "ar1h", "ad", "adh", "sp_exp", "csh_by_arm")) {
  fits[[paste0(cov, "_kenward_roger")]] <- fit_one(cov, "Kenward-Roger")
  fits[[paste0(cov, "_kenward_roger_linear")]] <- fit_one(cov, "Kenward-Roger", "Kenward-Roger-Linear")
}
for (cov in c("us", "toep", "csh", "ar1h", "sp_exp", "us_by_arm")) {
  for (v in c("Empirical", "Empirical-Bias-Reduced", "Empirical-Jackknife")) {
    fits[[paste0(cov, "_", tolower(gsub("-", "_", v)))]] <- fit_one(cov, "Satterthwaite", v)
  }
}
fits[["us_residual_empirical"]] <- fit_one("us", "Residual", "Empirical")

pkg <- function(p) as.character(packageVersion(p))
cat(toJSON(list(
  r_version = R.version.string,
  packages = list(mmrm = pkg("mmrm"), emmeans = pkg("emmeans"), TMB = pkg("TMB"), jsonlite = pkg("jsonlite")),
  data = "mmrm::fev_data with month = c(1, 3, 6, 12)[as.integer(AVISIT)]; written to fev_data.csv",
  fits = fits
), digits = NA, auto_unbox = TRUE, pretty = TRUE))

# R mmrm on the shipped synthetic twin of RESPINE: VAS change from baseline at months 1, 3, 6, 12,
# 24 (MITT, observed records), the frame respine's analysis layer fits
# (respine.analyses.repeated._mmrm_frame for Selection("VAS", 12, method = "mmrm")).
#
# Usage (from the repository root):
#   .venv/bin/python tests/reference_data/mmrm_breadth/export_twin.py /tmp/twin_vas.csv
#   R_LIBS_USER=/work/rlib Rscript tests/reference_data/mmrm_breadth/twin_reference.R /tmp/twin_vas.csv \
#       > tests/reference_data/mmrm_breadth/twin_values.json

suppressPackageStartupMessages({
  library(jsonlite)
  library(emmeans)
  library(mmrm)
})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(if (length(args) >= 1) args[[1]] else "/tmp/twin_vas.csv")
d$arm <- factor(d$arm, levels = c("Sham", "BM-MSC"))
d$visit <- factor(d$visit_month, levels = c(1, 3, 6, 12, 24))
d$subject_id <- factor(d$subject_id)

FIXED <- "chg ~ arm * visit + base * visit"
COV_TERMS <- list(
  sp_exp = "sp_exp(visit_month | subject_id)", csh = "csh(visit | subject_id)",
  adh = "adh(visit | subject_id)", ar1h_by_arm = "ar1h(visit | arm / subject_id)",
  toeph = "toeph(visit | subject_id)"
)
fit_one <- function(cov, method, vcov = NULL) {
  f <- as.formula(paste(FIXED, "+", COV_TERMS[[cov]]))
  # mmrm's standard start (theta = 0: variance 1, rho 0.5) sends BFGS away on sp_exp (theta to
  # 117); start it at the variance of the response and rho = 0.5 per month instead.
  # The heterogeneous structures start at the log SD of the change at each visit and correlation
  # parameters 1 (rho about 0.7); mmrm's standard start (all 0) stops BFGS and nlminb where
  # theta_vcov is not positive definite on csh.
  log_sd <- unname(log(tapply(d$chg, d$visit, sd, na.rm = TRUE)))
  start <- switch(cov, sp_exp = c(log(var(d$chg, na.rm = TRUE)), 0), csh = c(log_sd, 1),
                  adh = c(log_sd, rep(1, 4)), toeph = c(log_sd, rep(1, 4)),
                  ar1h_by_arm = rep(c(log_sd, 1), 2))
  args <- list(f, data = d, reml = TRUE, method = method, optimizer = "BFGS",
               optimizer_control = list(reltol = 1e-15, maxit = 2000))
  if (!is.null(vcov)) args$vcov <- vcov
  if (!is.null(start)) args$start <- start
  message("fitting ", cov, " ", method, " ", if (is.null(vcov)) "" else vcov)
  fit <- tryCatch(do.call(mmrm, args), error = function(e) NULL)
  if (is.null(fit)) {
    # BFGS stops where theta_vcov is not positive definite (csh from mmrm's standard start):
    # nlminb with a tight relative tolerance, the same model and start.
    args$optimizer <- "nlminb"
    args$optimizer_control <- list(rel.tol = 1e-14, iter.max = 1000, eval.max = 2000)
    fit <- do.call(mmrm, args)
    opt_used <- "optimizer = \"nlminb\", optimizer_control = list(rel.tol = 1e-14, iter.max = 1000, eval.max = 2000)"
  } else {
    opt_used <- "optimizer = \"BFGS\", optimizer_control = list(reltol = 1e-15, maxit = 2000)"
  }
  opt <- paste0("start = c(", paste(signif(start, 17), collapse = ", "), "), ", opt_used)
  stopifnot(component(fit, "convergence") == 0)
  con <- as.data.frame(summary(contrast(emmeans(fit, ~ arm | visit), method = "trt.vs.ctrl", ref = 1,
                                        adjust = "none"), infer = c(TRUE, TRUE)))
  a3 <- mmrm:::Anova.mmrm(fit, type = "III")
  list(
    call = paste0("fit <- mmrm(", FIXED, " + ", COV_TERMS[[cov]], ", data = d, reml = TRUE, method = \"",
                  method, "\"", if (!is.null(vcov)) paste0(", vcov = \"", vcov, "\"") else "",
                  ", ", opt, "); ",
                  "contrast(emmeans(fit, ~ arm | visit), method = \"trt.vs.ctrl\", ref = 1, ",
                  "adjust = \"none\"); mmrm:::Anova.mmrm(fit, type = \"III\")"),
    reml_loglik = as.numeric(logLik(fit)),
    n_obs = component(fit, "n_obs"),
    contrasts = data.frame(visit = as.numeric(as.character(con$visit)), estimate = con$estimate,
                           se = con$SE, df = con$df, p_value = con$p.value),
    type3 = data.frame(term = rownames(a3), num_df = a3$Df, denom_df = a3$Res.Df, f_stat = a3$F,
                       p_value = a3$`Pr(>F)`)
  )
}
fits <- list(
  sp_exp_satterthwaite = fit_one("sp_exp", "Satterthwaite"),
  sp_exp_kenward_roger = fit_one("sp_exp", "Kenward-Roger"),
  sp_exp_empirical_bias_reduced = fit_one("sp_exp", "Satterthwaite", "Empirical-Bias-Reduced"),
  csh_satterthwaite = fit_one("csh", "Satterthwaite"),
  adh_kenward_roger = fit_one("adh", "Kenward-Roger"),
  toeph_empirical = fit_one("toeph", "Satterthwaite", "Empirical"),
  ar1h_by_arm_satterthwaite = fit_one("ar1h_by_arm", "Satterthwaite")
)
pkg <- function(p) as.character(packageVersion(p))
cat(toJSON(list(r_version = R.version.string,
                packages = list(mmrm = pkg("mmrm"), emmeans = pkg("emmeans"), TMB = pkg("TMB")),
                data = "data/ (shipped twin): VAS chg, MITT, observed post-baseline records",
                fits = fits), digits = NA, auto_unbox = TRUE, pretty = TRUE))

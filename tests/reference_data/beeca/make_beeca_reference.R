# Reference values for respine.stats.marginal (tests/test_marginal.py).
#
# Produces, in this folder:
#   trial01.csv         beeca's example trial (beeca::trial01, 268 subjects; the one subject without
#                       an outcome left out, as beeca's own tests do)
#   trial02_cdisc.csv   beeca's three-arm example (beeca::trial02_cdisc: USUBJID, TRTPN, SEX, AVAL)
#   beeca_values.csv    beeca::get_marginal_effect() estimates and standard errors
#   published.csv       the SAS outputs beeca ships beside trial01: the Ge et al. (2011) macro
#                       (beeca::ge_macro_trial01) and SAS %Margins (beeca::margins_trial01)
#
# Run from the repository root with beeca 0.2.0 built from source (openpharma/beeca):
#   R_LIBS_USER=/work/rlib Rscript tests/reference_data/beeca/make_beeca_reference.R
suppressMessages(library(beeca))
out <- "tests/reference_data/beeca"

data01 <- beeca::trial01 |> transform(trtp = as.factor(trtp)) |> dplyr::filter(!is.na(aval))
write.csv(data01[, c("usubjid", "aval", "trtp", "bl_cov", "bl_cov_c",
                     "region_2", "region_3", "region_4", "region_5")],
          file.path(out, "trial01.csv"), row.names = FALSE)
data02 <- beeca::trial02_cdisc |> transform(TRTPN = as.factor(TRTPN))
write.csv(data02[, c("USUBJID", "TRTPN", "SEX", "AVAL")], file.path(out, "trial02_cdisc.csv"),
          row.names = FALSE)

rows <- list()
add <- function(case, formula, data, trt, reference, method, type, strata, contrast) {
  fit <- glm(as.formula(formula), family = "binomial", data = data)
  args <- list(object = fit, trt = trt, method = method, contrast = contrast, reference = reference)
  if (method == "Ge") args$type <- type
  if (!is.null(strata)) args$strata <- strata
  m <- suppressWarnings(do.call(beeca::get_marginal_effect, args))
  call <- sprintf("get_marginal_effect(glm(%s, binomial, %s), trt = \"%s\", method = \"%s\"%s%s, contrast = \"%s\", reference = \"%s\")",
                  formula, case, trt, method, if (method == "Ge") sprintf(", type = \"%s\"", type) else "",
                  if (is.null(strata)) "" else sprintf(", strata = \"%s\"", strata), contrast, reference)
  lv <- levels(data[[trt]])
  for (x in lv) {
    rows[[length(rows) + 1]] <<- data.frame(case = case, formula = formula, method = method,
      type = if (method == "Ge") type else "", strata = if (is.null(strata)) "" else strata,
      contrast = contrast, what = "risk", level = x, estimate = unname(m$counterfactual.means[x]),
      se = sqrt(m$robust_varcov[x, x]), call = call)
  }
  for (i in seq_along(m$marginal_est)) {
    rows[[length(rows) + 1]] <<- data.frame(case = case, formula = formula, method = method,
      type = if (method == "Ge") type else "", strata = if (is.null(strata)) "" else strata,
      contrast = contrast, what = "contrast", level = names(m$marginal_est)[i],
      estimate = unname(m$marginal_est[i]), se = unname(m$marginal_se[i]), call = call)
  }
}
for (contrast in c("diff", "rr", "or", "logrr", "logor")) {
  add("trial01", "aval ~ trtp + bl_cov", data01, "trtp", "0", "Ge", "HC0", NULL, contrast)
  add("trial01", "aval ~ trtp + bl_cov", data01, "trtp", "0", "Ge", "model-based", NULL, contrast)
  add("trial01", "aval ~ trtp + bl_cov", data01, "trtp", "0", "Ye", "", NULL, contrast)
  add("trial01", "aval ~ trtp + bl_cov_c", data01, "trtp", "0", "Ye", "", "bl_cov_c", contrast)
  add("trial02_cdisc", "AVAL ~ TRTPN + SEX", data02, "TRTPN", "1", "Ge", "HC0", NULL, contrast)
  add("trial02_cdisc", "AVAL ~ TRTPN + SEX", data02, "TRTPN", "1", "Ye", "", NULL, contrast)
}
write.csv(do.call(rbind, rows), file.path(out, "beeca_values.csv"), row.names = FALSE)

pub <- rbind(
  data.frame(source = "Ge et al. (2011) SAS macro (beeca::ge_macro_trial01)",
             estimate = beeca::ge_macro_trial01$diff, se = beeca::ge_macro_trial01$se),
  data.frame(source = "SAS %Margins macro (beeca::margins_trial01)",
             estimate = beeca::margins_trial01$Estimate, se = beeca::margins_trial01$StdErr))
write.csv(pub, file.path(out, "published.csv"), row.names = FALSE)
cat(R.version.string, "beeca", as.character(packageVersion("beeca")), "\n")

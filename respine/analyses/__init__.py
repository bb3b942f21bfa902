"""Analyses: a Trial and a Selection in, results out. Each module answers one question a page asks
(compare arms at a visit, a course over time, robustness, subgroups, baseline, safety, flow, ...)."""

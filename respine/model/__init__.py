"""The model: plain types every layer shares (endpoints, study design, responder rules, the
selection of a view, result types). It imports nothing else of respine."""

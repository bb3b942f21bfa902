"""Streamlit glue: the only part of the package that imports streamlit.

Pages call these helpers to read the view, get cached results and render them; they do no
pandas wrangling or statistics of their own.
"""

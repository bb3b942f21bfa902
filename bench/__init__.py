"""The benchmarks of the RESPINE explorer (bench/README.md). A package so that its scripts import
each other as ``bench.common``, ``bench.warm``, ... whether run as ``python bench/run.py`` or as
``python -m bench.run``."""

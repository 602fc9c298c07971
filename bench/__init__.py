"""Benchmarks of Flowlearn against baselines doing the same work (``python -m bench``)."""

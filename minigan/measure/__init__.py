"""Measuring a generator: the evaluation classifiers (``classifier``) and the scores computed
in their features or in raw 2-D coordinates (``metrics``)."""

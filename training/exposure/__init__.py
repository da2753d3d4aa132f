"""Exposure of career-advancing items in the top 10, by group: the measure, its figures, the
promotion rule on them and their MLflow records (definitions: :mod:`training.fairness`, the
public face of this package; docs/fairness.md).

Below the ranking pipelines, which use it; it imports none of them.
"""

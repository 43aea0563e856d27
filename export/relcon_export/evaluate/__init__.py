"""Downstream evaluation: feature sources, probes, metrics, benchmark runs, reports and the method comparison.

sources  checkpoint / random-init / stats features
probes   linear, MLP, ridge, fine-tuning
metrics  classification and regression metrics, aggregation
runner   one source on one benchmark over subject-held-out splits
report   tables and figures
compare  several methods on every benchmark (docs/results.md)
"""

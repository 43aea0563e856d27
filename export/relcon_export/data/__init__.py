"""Accelerometer data: the public recordings, the session format, corpora for pretraining, labelled benchmarks.

recordings  one reader per dataset (READERS), anti-aliased resampling
sessions    the on-disk session file, `data prepare` / `data convert`
corpus      windows, subject splits, candidate pools, resumable batches (WindowDataset modes)
benchmarks  labelled window sets and subject-held-out splits
windows     the real windows of the golden vectors
augment     the 8 augmentations
"""

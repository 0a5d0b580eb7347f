"""Data: the RawStems tree (taxonomy-labelled stems, splits, manifest), corpus analyses,
the synthetic corpus and the training / test datasets; one module per job."""

"""Exact and MinHash near-duplicate removal, and decontamination against reference sets."""

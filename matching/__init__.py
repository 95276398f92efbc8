"""Kinship engine: STR profiles, allele frequencies and forensic likelihood ratios (pure numpy)."""

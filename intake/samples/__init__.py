"""Samples: their custody, whether a sample fits its person, and a case's sampling progress."""

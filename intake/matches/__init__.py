"""Candidate matches on the intake side: asking the matcher for work, and officers' decisions."""

"""Cases and the people on them: status, consent, family joining, duplicates, found children, erasure, retention."""

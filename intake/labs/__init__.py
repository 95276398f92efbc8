"""Labs: the directory, API keys, bookable days and appointments, walk-ins, kits, profiles and GeneMapper imports."""

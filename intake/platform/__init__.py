"""What every domain stands on: settings, database, clock, codes, text and dates, translations, encryption, backups."""

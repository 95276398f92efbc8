"""The intake dialogue: one engine for every channel, state kept in the database."""

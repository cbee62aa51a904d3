"""Transcripts: built from the store when a session closes, rendered, and published."""

"""Bluesky: chats as reply threads under a hashtag, read from Jetstream."""

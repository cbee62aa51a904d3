"""The Mastodon adapter, on Mastodon.py."""

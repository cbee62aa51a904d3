"""Stand-ins for the platform APIs, served on loopback for the adapter tests."""

"""What an operator needs to run hashchat: health, readiness, metrics, logs, backups."""

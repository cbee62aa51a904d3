"""Platform adapters: each turns one chat service into the port of ``base``."""

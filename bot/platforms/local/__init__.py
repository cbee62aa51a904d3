"""The built-in local platform: in-process, or served to other processes."""

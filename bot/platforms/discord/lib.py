"""discord.py, imported once here without the warning about its voice support.

discord.py imports ``audioop`` (deprecated since Python 3.11) for voice, which hashchat
never uses; the warning would only alarm people reading the logs, and the test suite
treats warnings as errors. Every module of the adapter imports discord.py from here.
"""

from __future__ import annotations

import logging
import warnings

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord as discord
    from discord import app_commands as app_commands


class _NoVoiceNotes(logging.Filter):
    """discord.py warns at every start that voice libraries are missing; hashchat has no
    voice, so the note is noise in the moderators' logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


logging.getLogger("discord.client").addFilter(_NoVoiceNotes())

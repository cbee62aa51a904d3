"""hashchat: scheduled, moderated question-and-answer chats on several platforms."""

__version__ = "0.1.0"

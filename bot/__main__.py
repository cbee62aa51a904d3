"""Lets ``python -m bot`` behave exactly like the ``hashchat`` console script."""

from bot.cli import main

main()

"""The moderators' web console: passwordless login, agendas and the live chat, in a browser."""

"""The community site: home, past chats, search, numbers, links and feeds, served by the
web server and exported as static files by the same render functions."""

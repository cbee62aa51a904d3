"""Which question a post of the bot's own is, from its text alone.

A reply names the post it answers by id; when the bot never learnt a question post's id
(the platform took it, then the bot was killed before it stored the answer), a reply to
it could not be matched. Platforms that show the replied-to post's text (Telegram's
``reply_to_message``) give the evidence: the text is compared with each question post as
the bot composes it (``Qn: … #tag``, the same in every locale, with its second language
and a late note where it had them). A long post split in parts shows only one part, so
a part of a question post counts, provided it belongs to one question only; a later
part (not starting with ``Qn:``) only if it is long enough not to be a short post of
another kind ("Done.") that happens to occur in a question.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_SPACE = re.compile(r"\s+")
# The shortest later part of a split question post taken as evidence.
MIN_PART = 40


def _plain(text: str) -> str:
    """Spaces as any platform may have changed them (trimmed parts, folded lines)."""
    return _SPACE.sub(" ", text).strip()


def question_of_post(text: str, posts: Mapping[int, str]) -> int | None:
    """The number of the question whose post (``posts``: number -> text as composed)
    ``text`` is, or a part of, or that text plus a note after it; None when it is none
    of them or could be more than one."""
    seen = _plain(text)
    if not seen:
        return None
    found = {number for number, post in posts.items() if _is_of(seen, _plain(post))}
    return found.pop() if len(found) == 1 else None


def _is_of(seen: str, composed: str) -> bool:
    if not composed:
        return False
    if composed.startswith(seen) or seen.startswith(composed):
        return True  # the post, its first part, or the post with a note after it
    return len(seen) >= MIN_PART and seen in composed

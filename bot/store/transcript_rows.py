"""Stored messages as transcript records, with replies filed by what is known at the end.

A reply is attributed when it is stored, to the question whose post it answers. But a
question's post may be confirmed only later (its send was cut off by a crash and settled
at the restart, while replies to it were already read), so the transcript also files a
reply, or a message in a question's thread, by the posts as they finally stand.
"""

from __future__ import annotations

from typing import Any

from bot.domain import ChannelRef
from bot.store.backend import Database
from bot.store.codec import decode_questions, parse_ts, parse_ts_or_none
from bot.transcript.model import MessageRecord

# (platform, channel id, message id) of a question's post -> the question's number
QuestionPosts = dict[tuple[str, str, str], int]

MESSAGE_COLUMNS = (
    "id, platform, channel, thread, author_key, author_name, text, sent_at, edited_at, url,"
    " questions, reply_to"
)


async def question_posts(db: Database, session_id: int) -> QuestionPosts:
    async with db.execute(
        "SELECT s.question, p.channel, p.message_id FROM steps s JOIN posts p"
        " ON p.session_id = s.session_id AND p.step_key = s.key"
        " WHERE s.session_id = ? AND s.kind = 'question' AND p.state = 'sent'"
        " AND p.message_id IS NOT NULL",
        (session_id,),
    ) as cur:
        rows = await cur.fetchall()
    posts: QuestionPosts = {}
    for number, channel, message_id in rows:
        ref = ChannelRef.parse(channel)
        posts[(ref.platform, ref.id, str(message_id))] = int(number)
    return posts


def message_record(row: tuple[Any, ...], posts: QuestionPosts) -> MessageRecord:
    mid, platform, channel, thread, author_key, author_name, text, sent, edited, url, qs, reply = (
        row
    )
    replied = {
        posts[key]
        for target in (reply, thread)
        if target is not None and (key := (platform, channel, str(target))) in posts
    }
    return MessageRecord(
        id=mid,
        platform=platform,
        channel=f"{platform}:{channel}" + (f"/{thread}" if thread else ""),
        author_key=author_key,
        author_name=author_name,
        text=text,
        sent_at=parse_ts(sent),
        edited_at=parse_ts_or_none(edited),
        link=url,
        questions=decode_questions(qs) | replied,
    )

"""One Telegram update through the intake: stored by the inbox before any work, then the dialogue, then the replies.

The same path serves polling and the webhook (`TelegramChannel.handle`):

* An update becomes an `Incoming` keyed by its update id (the inbox's unique (channel, provider id), so a
  retried update is processed once and never answered twice): a text, a command, a button press, a shared
  location, or a photo (kept as a `telegram:file/<file_id>` reference in the message's first commit).
* Then, inside the inbox's dialogue transaction: photos are downloaded (getFile and the file URL on the Bot API
  server's file API only), checked and stripped of metadata by `intake.platform.photos`, and the stored photo id is
  recorded on the attachment; the dialogue runs. A photo Telegram cannot give within INLINE_DOWNLOAD_S (down,
  slow, 5xx) is not lost: it stays due for the worker's fetch job (`bot.telegram.media`, `intake.inbound.media`),
  which retries it. Whatever else fails there is parked by the inbox with its error and the person gets its
  apology. A photo's caption reaches the dialogue as the message's text: it describes the child at the
  description question and is a note on the photo anywhere else, never an answer (`intake.dialogue.engine`).
* Replies go out with sendMessage; a reply's choices become inline buttons whose callback data names the
  inbound message that asked them (`<message id>:<key>`). A press is an answer only while nothing newer came
  from that chat, so an old button, or one pressed twice, changes nothing; the press is answered
  (answerCallbackQuery) and its message edited to show the choice, without buttons. A reply with a sample code
  carries it as a QR code image (sendPhoto) the lab scans.
* Commands (/report, /book, ...) are the dialogue's keywords in the contact's language; `/link` with a case
  reference and PIN joins the case (JOIN), with a link code it links a walk-in sample (LINK).
* A chat's first language comes from the person's Telegram language (zh*: Chinese, anything else: English).

One chat's updates are handled one after the other (a lock per chat here, the conversation's row lock in the
database), so two quick messages are answered in order.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import segno
import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, sessionmaker
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram import Message as TgMessage
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.telegram.api import BotApi
from intake.dialogue.engine import handle as run_dialogue
from intake.dialogue.types import Incoming, Media, Reply
from intake.inbound.inbox import process
from intake.models import Attachment, Channel, Contact, Direction, Message, MessageStatus, contact_for
from intake.platform import clock
from intake.platform.codes import normalise_case_reference
from intake.platform.i18n import CHINESE, ENGLISH, N_, translate
from intake.platform.photos import MAX_PHOTO_BYTES, PhotoError, delete_photo, store_photo

log = logging.getLogger(__name__)

FILE_PREFIX = "telegram:file/"
INLINE_DOWNLOAD_S = 10.0  # how long an update waits for its photo; a slower one is fetched by the worker
MAX_TEXT_CHARS = 4096  # Telegram's limit for one message
# command: (English keyword, Chinese keyword, description); the dialogue's keywords do the work.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "start": ("START", "开始", N_("Start, or start again after STOP")),
    "report": ("REPORT", "报失", N_("Report a missing child")),
    "book": ("BOOK", "预约", N_("Book, move or cancel a DNA sampling appointment")),
    "status": ("STATUS", "查询", N_("Your case and your appointment")),
    "link": ("LINK", "关联", N_("Link this chat to your case: case number and PIN, or a lab's link code")),
    "language": ("LANGUAGE", "语言", N_("中文 / English")),
    "help": ("HELP", "帮助", N_("What you can do")),
    "cancel": ("CANCEL", "取消", N_("Stop what you are doing")),
    "stop": ("STOP", "退订", N_("No more messages")),
    "mydata": ("MYDATA", "我的数据", N_("What reunite keeps about you")),
    "delete": ("DELETE", "删除", N_("Erase your data")),
    "found": ("FOUND", "发现", N_("Volunteers: register a child found alone")),
    "next": ("NEXT", "下一个", N_("Volunteers: register the next child")),
    "children": ("CHILDREN", "名单", N_("Volunteers: the children you registered")),
}
JOIN_WORDS = {ENGLISH: "JOIN", CHINESE: "加入"}
GREETING = {ENGLISH: "Hello", CHINESE: "你好"}
newer_inbound = aliased(Message)
STALE_CHOICE = N_("This choice is no longer open. Please answer the latest question.")
CHOSEN = "✓ "


def first_language(language_code: str | None) -> str | None:
    """Return the first language of a new chat from the person's Telegram language (None when it is not known)."""
    if not language_code:
        return None
    return CHINESE if language_code.lower().startswith("zh") else ENGLISH


def bot_commands(lang: str) -> list[BotCommand]:
    """Return the bot's command menu in `lang` (setMyCommands)."""
    return [
        BotCommand(name, str(translate(lang, description)))
        for name, (_en, _zh, description) in COMMANDS.items()
    ]


def qr_png(code: str) -> bytes:
    """Return a QR code of `code` as a PNG image a lab's scanner reads."""
    out = io.BytesIO()
    segno.make(code, error="m").save(out, kind="png", scale=10, border=4)
    return out.getvalue()


@dataclasses.dataclass
class _Update:
    """What one update means to the intake: who, what they sent, and the button pressed, if any."""

    chat_id: int
    text: str
    language_code: str | None
    media: tuple[Media, ...] = ()
    location: tuple[float, float] | None = None
    callback: CallbackQuery | None = None
    asked_by: int | None = None  # a button press: the inbound message whose replies offered the button
    command: str | None = None


def _media(message: TgMessage) -> tuple[Media, ...]:
    if message.photo:  # the same photo in several sizes: the largest is last
        return (Media(FILE_PREFIX + message.photo[-1].file_id, "image/jpeg"),)
    document = message.document
    if document is not None:  # a file that is no image is refused in words by the dialogue, never downloaded
        return (Media(FILE_PREFIX + document.file_id, document.mime_type or "application/octet-stream"),)
    return ()


def _command(text: str) -> tuple[str, str] | None:
    """Return (command, the rest) of a message like "/link@reunite_bot MC-2026-ACL9KQ 180262", else None."""
    if not text.startswith("/"):
        return None
    head, _sep, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name, rest.strip()) if name in COMMANDS else None


def read_update(update: Update) -> _Update | None:
    """Return what an update says to the intake, or None for updates the intake does not take (edits, joins...)."""
    if update.callback_query is not None:
        query = update.callback_query
        message = query.message
        if message is None or not isinstance(message, TgMessage) or not query.data:
            return None
        asked_by, _sep, key = query.data.partition(":")
        return _Update(
            chat_id=message.chat.id,
            text=key,
            language_code=query.from_user.language_code,
            callback=query,
            asked_by=int(asked_by) if asked_by.isdigit() else 0,
        )
    message = update.message
    if message is None:
        return None
    location = (message.location.latitude, message.location.longitude) if message.location else None
    user = message.from_user
    return _Update(
        chat_id=message.chat.id,
        text=message.text or message.caption or "",
        language_code=user.language_code if user else None,
        media=_media(message),
        location=location,
    )


class TelegramChannel:
    """The Telegram adapter over one database and one bot; thread-safe (one lock per chat)."""

    def __init__(self, factory: sessionmaker[Session], api: BotApi, data_dir: Path) -> None:
        self.factory, self.api, self.data_dir = factory, api, data_dir
        self._locks: dict[int, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def _lock(self, chat_id: int) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(chat_id, threading.Lock())

    def register_commands(self) -> None:
        """Publish the command menu in English (the default) and in Chinese (setMyCommands)."""
        self.register_commands_with(self.api)

    @staticmethod
    def register_commands_with(api: BotApi) -> None:
        """Publish the command menu of the bot behind `api` in English (the default) and in Chinese."""
        api.run(api.bot.set_my_commands(bot_commands(ENGLISH)))
        api.run(api.bot.set_my_commands(bot_commands(CHINESE), language_code="zh"))

    def handle(self, update: Update) -> None:
        """Take one update: store it, process it once, send the replies. Never raises for the update's content."""
        what = read_update(update)
        if what is None:
            log.info("update %s is not one the intake takes; ignored", update.update_id)
            return
        with self._lock(what.chat_id):
            self._handle(update.update_id, what)

    def _handle(self, update_id: int, what: _Update) -> None:
        address = str(what.chat_id)
        lang = self._contact_language(address, what.language_code)
        text = self._command_text(what, lang)
        incoming = Incoming(
            channel=Channel.TELEGRAM,
            address=address,
            text=text,
            received_at=clock.now(),
            provider_id=str(update_id),
            media=what.media,
            location=what.location,
        )
        outcome: dict[str, object] = {}
        replies = process(
            self.factory, incoming, handler=self._handler(what, outcome), replies_of_duplicate=False
        )
        if what.callback is not None and "inbound_id" in outcome:
            self._settle_press(what.callback, stale=bool(outcome.get("stale")), lang=lang)
        self._send_unsent(what.chat_id, str(update_id), replies, asked_by=outcome.get("inbound_id"))

    def _send_unsent(self, chat_id: int, provider_id: str, replies: list[Reply], *, asked_by: object) -> None:
        """Send the update's stored replies that were not sent yet, once, and mark them sent.

        Under the inbound message's row lock on PostgreSQL, so of an update's deliveries to several web processes
        only one sends. On SQLite every transaction holds the database's one write lock (BEGIN IMMEDIATE), which
        must not wait on Telegram's API: the replies are read, sent outside any transaction, then marked, and one
        process's per-chat lock keeps its deliveries of an update apart (SQLite serves one process). A web process
        killed after the replies were committed and before they were sent leaves them unsent: Telegram retries the
        update (it got no 200) and the retry sends them, as stored (numbered choices, no buttons or QR code).
        """
        with self.factory() as session:
            hold_lock = session.get_bind().dialect.name != "sqlite"
            inbound_id = session.scalars(
                sa.select(Message.id)
                .where(Message.channel == Channel.TELEGRAM, Message.provider_id == provider_id)
                .with_for_update()
            ).one()
            unsent = session.execute(
                sa.select(Message.id, Message.body)
                .where(Message.in_reply_to_id == inbound_id, Message.status == MessageStatus.ANSWERED_INLINE)
                .order_by(Message.id)
            ).all()
            if not unsent:
                return
            if len(replies) != len(unsent):  # a retry after a crash: the stored text is what is left
                replies, asked_by = [Reply(body) for _id, body in unsent], None
            if not hold_lock:
                session.commit()  # release SQLite's write lock before calling Telegram
            took = self.send(chat_id, replies, asked_by=asked_by)
            sent = [message_id for (message_id, _body), ok in zip(unsent, took, strict=True) if ok]
            if sent:
                session.execute(
                    sa.update(Message).where(Message.id.in_(sent)).values(status=MessageStatus.SENT)
                )
            session.commit()

    def _contact_language(self, address: str, language_code: str | None) -> str:
        """Create the chat's contact on its first update in the person's Telegram language; return its language."""
        with self.factory() as session:
            query = sa.select(Contact).where(Contact.channel == Channel.TELEGRAM, Contact.address == address)
            contact = session.scalars(query).first()
            if contact is None:
                contact = contact_for(session, Channel.TELEGRAM, address)
                contact.language = first_language(language_code) or contact.language
                session.commit()
            return str(contact.language)

    def _command_text(self, what: _Update, lang: str) -> str:
        """Return the message as the dialogue reads it: a command becomes its keyword in the contact's language."""
        found = _command(what.text) if what.callback is None else None
        if found is None:
            return what.text
        name, rest = found
        english, chinese, _description = COMMANDS[name]
        keyword = chinese if lang == CHINESE else english
        if name == "link" and rest and normalise_case_reference(rest.split()[0]):
            keyword = JOIN_WORDS[lang]  # a case number and PIN: this person joins the case from this chat
        if name == "start":
            keyword = self._start_word(str(what.chat_id), lang, keyword)
        return f"{keyword} {rest}".strip()

    def _start_word(self, address: str, lang: str, start: str) -> str:
        # /start re-subscribes after STOP; for anyone else it opens the menu (a greeting) as a first message would.
        with self.factory() as session:
            opted_out = session.scalar(
                sa.select(Contact.opted_out).where(
                    Contact.channel == Channel.TELEGRAM, Contact.address == address
                )
            )
        return start if opted_out else GREETING[lang]

    def _handler(
        self, what: _Update, outcome: dict[str, object]
    ) -> Callable[[Session, Incoming, datetime], list[Reply]]:
        def handler(session: Session, incoming: Incoming, now: datetime) -> list[Reply]:
            inbound = session.scalars(
                sa.select(Message).where(
                    Message.channel == Channel.TELEGRAM, Message.provider_id == incoming.provider_id
                )
            ).one()
            outcome["inbound_id"] = inbound.id
            if what.callback is not None and self._is_stale(session, inbound, what.asked_by or 0):
                outcome["stale"] = True
                return []  # an old button: stored, and without effect
            before: list[Reply] = []
            if incoming.media:
                incoming, before = self._keep_photos(session, inbound, incoming)
            if not incoming.text and not incoming.media and not incoming.location and before:
                return before  # only a photo that could not be used: its reason is the answer
            photos = self._photos_of(session, inbound.contact_id)
            replies = run_dialogue(session, incoming, now)
            if photos:
                self._delete_erased(session, photos)
            return before + replies

        return handler

    @staticmethod
    def _is_stale(session: Session, inbound: Message, asked_by: int) -> bool:
        """Tell whether the chat was answered anything newer than the message whose replies offered the button.

        A message that was answered moved the dialogue on (a typed answer, a press, a keyword): the buttons
        offered before it are old. An old button's press gets no answer, so it leaves the current buttons valid.
        """
        answered = sa.select(sa.literal(1)).where(
            Message.direction == Direction.OUTBOUND, Message.in_reply_to_id == newer_inbound.id
        )
        newer = session.scalar(
            sa.select(sa.func.count())
            .select_from(newer_inbound)
            .where(
                newer_inbound.contact_id == inbound.contact_id,
                newer_inbound.direction == Direction.INBOUND,
                newer_inbound.id > asked_by,
                newer_inbound.id < inbound.id,
                answered.exists(),
            )
        )
        asker = session.get(Message, asked_by)
        return bool(newer) or asker is None or asker.contact_id != inbound.contact_id

    def _keep_photos(
        self, session: Session, inbound: Message, incoming: Incoming
    ) -> tuple[Incoming, list[Reply]]:
        """Download, check and store each photo; an unusable one is dropped with its reason in the person's words."""
        rows = session.scalars(
            sa.select(Attachment).where(Attachment.message_id == inbound.id).order_by(Attachment.position)
        ).all()
        kept: list[Media] = []
        before: list[Reply] = []
        for row, media in zip(rows, incoming.media, strict=True):
            # not a Telegram file, or no image (the dialogue refuses it in words): nothing to download
            if not (row.url or "").startswith(FILE_PREFIX) or not media.content_type.startswith("image/"):
                kept.append(media)
                continue
            try:
                data = self.api.download(
                    (row.url or "")[len(FILE_PREFIX) :], MAX_PHOTO_BYTES, INLINE_DOWNLOAD_S
                )
                photo = store_photo(self.data_dir, data)
            except (NetworkError, RetryAfter, TimeoutError) as exc:
                if isinstance(
                    exc, BadRequest
                ):  # Telegram will not give this file: as a photo that is no photo
                    raise
                log.warning(
                    "photo of update %s not downloaded now (%s): left to the fetch job", inbound.id, exc
                )
                row.fetch_after = clock.now()  # intake.inbound.media retries it
                kept.append(media)
                continue
            except PhotoError as exc:
                lang = session.get_one(Contact, inbound.contact_id).language
                before.append(Reply(str(translate(lang, exc.message, **exc.params))))
                session.delete(row)
                continue
            row.photo_id, row.content_type = photo.id, photo.content_type
            kept.append(media)
        session.flush()
        return dataclasses.replace(incoming, media=tuple(kept)), before

    @staticmethod
    def _photos_of(session: Session, contact_id: int | None) -> dict[int, str]:
        """Return the stored photos the chat sent (attachment id: photo id)."""
        rows = session.execute(
            sa.select(Attachment.id, Attachment.photo_id)
            .join(Message, Message.id == Attachment.message_id)
            .where(Message.contact_id == contact_id, Attachment.photo_id.is_not(None))
        ).all()
        return {attachment_id: str(photo_id) for attachment_id, photo_id in rows}

    def _delete_erased(self, session: Session, photos: dict[int, str]) -> None:
        """Delete the files of the photos the dialogue just erased (DELETE): erasure clears their photo ids."""
        session.flush()
        still = set(
            session.scalars(
                sa.select(Attachment.id).where(Attachment.id.in_(photos), Attachment.photo_id.is_not(None))
            )
        )
        for attachment_id, photo_id in photos.items():
            if attachment_id not in still:
                delete_photo(self.data_dir, photo_id)

    def _settle_press(self, query: CallbackQuery, *, stale: bool, lang: str) -> None:
        """Answer a button press and take the buttons off its message, showing the choice made."""
        message = query.message
        try:
            if stale:
                self.api.run(query.answer(text=str(translate(lang, STALE_CHOICE))))
            else:
                self.api.run(query.answer())
            if not isinstance(message, TgMessage):
                return
            label = _label_of(message, query.data or "")
            if not stale and label and message.text:
                self.api.run(
                    self.api.bot.edit_message_text(
                        f"{message.text}\n\n{CHOSEN}{label}"[:MAX_TEXT_CHARS],
                        chat_id=message.chat.id,
                        message_id=message.message_id,
                    )
                )
            else:
                self.api.run(
                    self.api.bot.edit_message_reply_markup(
                        chat_id=message.chat.id, message_id=message.message_id, reply_markup=None
                    )
                )
        except TelegramError as exc:  # the message may be too old to edit; the press was handled all the same
            log.warning(
                "could not settle a button press in chat %s: %s", message.chat.id if message else "?", exc
            )

    def send(self, chat_id: int, replies: list[Reply], *, asked_by: object = None) -> list[bool]:
        """Send the replies in order: text with inline buttons for the choices, and a QR code of a sample code.

        Return, for each reply, whether Telegram took its text."""
        sent: list[bool] = []
        for reply in replies:
            markup = None
            if reply.choices and isinstance(asked_by, int):
                markup = InlineKeyboardMarkup(
                    [
                        [InlineKeyboardButton(c.label or c.key, callback_data=f"{asked_by}:{c.key}")]
                        for c in reply.choices
                    ]
                )
            text = reply.text if markup is not None else render_choices(reply)
            took = False
            try:
                self.api.run(self.api.bot.send_message(chat_id, text[:MAX_TEXT_CHARS], reply_markup=markup))
                took = True
                if reply.code:
                    self.api.run(self.api.bot.send_photo(chat_id, qr_png(reply.code), caption=reply.code))
            except TelegramError as exc:  # blocked by the person, or the API is down: the reply stays stored
                log.warning("could not send to chat %s: %s", chat_id, exc)
            sent.append(took)
        return sent


def render_choices(reply: Reply) -> str:
    """Render a reply without buttons: its choices as numbered lines, as SMS shows them."""
    from intake.inbound.inbox import render_plain

    return render_plain(reply)


def _label_of(message: TgMessage, data: str) -> str | None:
    markup = message.reply_markup
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None

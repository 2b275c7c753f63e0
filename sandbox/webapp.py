"""What Telegram's apps do for a Mini App, played by the sandbox: open the page with init data
signed with the bot's token (core.telegram.org/bots/webapps, "Validating data received via the
Mini App"), and stand in for the phone's QR scanner (`WebApp.showScanQrPopup`) with the QR codes
of the photos in the sandbox's chats, read with the same library that draws them.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from sandbox.state import State


def init_data(token: str, user_id: int, first_name: str, auth_date: int, language: str) -> str:
    """The init data Telegram hands a Mini App opened by this user, signed with `token`."""
    user = {"id": user_id, "first_name": first_name, "language_code": language}
    fields = {
        "query_id": f"sandbox{user_id}",
        "user": json.dumps(user, ensure_ascii=False, separators=(",", ":")),
        "auth_date": str(auth_date),
    }
    checked = "\n".join(f"{k}={v}" for k, v in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, checked.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@dataclass(frozen=True, slots=True)
class Scannable:
    """A QR code a phone could be pointed at: in a photo the bot sent to someone."""

    text: str  # what the scanner reads
    chat: str  # whose chat the photo is in (the pass's owner, for a pickup pass)
    message_id: int


def scannable(state: State) -> list[Scannable]:
    """Every QR code in the photos the bot sent, newest first."""
    import zxingcpp  # the sandbox's scanner only: not needed to run the emulator
    from PIL import Image

    found = []
    for chat_id, messages in state.messages.items():
        for message in messages:
            if message.photo is None or message.from_id != state.bot.id or message.deleted:
                continue
            record = state.files.get(message.photo)
            if record is None or not record.data:
                continue
            try:
                image = Image.open(io.BytesIO(record.data))
                read = [code.text for code in zxingcpp.read_barcodes(image)]
            except OSError:  # not an image after all
                continue
            found += [Scannable(text, _name(state, chat_id), message.message_id) for text in read]
    return sorted(found, key=lambda s: -s.message_id)


def _name(state: State, chat_id: int) -> str:
    chat = state.chats.get(chat_id)
    if chat is not None and chat.title:
        return chat.title
    user = state.users.get(chat_id)
    return user.first_name if user is not None else str(chat_id)

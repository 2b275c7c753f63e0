"""groupbuy.pickup_pass and messages.qr: a pass the bot signed reads back; anything else, made
up or damaged in any part, is refused; the QR image decodes to the pass."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from groupbuy import pickup_pass
from groupbuy.codes import ALPHABET, LENGTH
from groupbuy.errors import DomainError
from groupbuy.pickup_pass import Pass, key_from_token, payload, read
from messages import qr
from messages.fitting import shown_length

KEY = key_from_token("123456:TEST-token")
CHAT = -1001234567890


def _refused(text: str, key: bytes = KEY) -> str:
    with pytest.raises(DomainError) as refused:
        read(key, text)
    return refused.value.key


def test_a_signed_pass_reads_back_alone_or_among_words() -> None:
    signed = payload(KEY, CHAT, "K7P2X")
    assert signed.startswith(f"GB1.{CHAT}.K7P2X.") and len(signed) < 48
    assert read(KEY, signed) == Pass(CHAT, "K7P2X")
    assert read(KEY, f"scanned: {signed} (from Ann)") == Pass(CHAT, "K7P2X")
    assert pickup_pass.find(f"look {signed}!") == signed
    assert pickup_pass.find("K7P2X") is None and pickup_pass.find("GB1 hello") is None


def test_anything_the_bot_did_not_sign_is_refused() -> None:
    signed = payload(KEY, CHAT, "K7P2X")
    head, signature = signed.rsplit(".", 1)
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    forged = [
        f"{head}.{flipped}",  # one character of the signature
        signed.replace("K7P2X", "K7P2Y"),  # another order's code, same signature
        signed.replace(str(CHAT), str(CHAT + 1)),  # another community, same signature
        signed.replace("K7P2X", "k7p2x"),  # not a code as the bot writes it
        f"{head}.",  # no signature
        head,  # not even the shape
        "GB1.abc.K7P2X.xyz",
    ]
    for text in forged:
        assert _refused(text) == "pass_invalid", text
    # Made with another bot's key (another token): not ours.
    assert _refused(payload(key_from_token("999:OTHER"), CHAT, "K7P2X")) == "pass_invalid"


@given(
    community=st.integers(min_value=-(10**13), max_value=10**13),
    code=st.text(alphabet=ALPHABET, min_size=LENGTH, max_size=LENGTH),
)
def test_every_pass_reads_back_and_no_other_key_reads_it(community: int, code: str) -> None:
    signed = payload(KEY, community, code)
    assert read(KEY, signed) == Pass(community, code)
    assert _refused(signed, key_from_token("other")) == "pass_invalid"


def test_the_qr_image_decodes_to_the_pass() -> None:
    signed = payload(KEY, CHAT, "K7P2X")
    image = Image.open(io.BytesIO(qr.png(signed)))
    assert image.format == "PNG" and image.size[0] >= 200
    assert [found.text for found in zxingcpp.read_barcodes(image)] == [signed]


def test_shown_length_counts_what_telegram_shows() -> None:
    assert shown_length("<b>Tom &amp; Jerry</b> · #1\n🔑 <code>K7P2X</code>") == len(
        "Tom & Jerry · #1\n🔑 K7P2X"
    )

"""aiogram's types loaded lazily (bot/lean_types.py) still build and validate, every one of them.

Each check runs in a fresh interpreter: in this one aiogram may already have been imported the
usual way (the emulator imports it), and then the lazy load rightly does nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> dict[str, object]:
    """Run `code` in a new interpreter after `import bot.lean`; it prints one JSON object."""
    script = "import json\nimport bot.lean\n" + textwrap.dedent(code)
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@pytest.mark.parametrize(
    "module",
    ["bot.cli", "bot.runtime", "bot.telegram", "bot.polling", "bot.reach", "bot.sandbox_mode"],
)
def test_each_way_into_aiogram_loads_its_types_lazily(module: str) -> None:
    # The first import of aiogram in a process decides: each module of the bot that imports
    # it imports bot.lean first (the command line reaches aiogram through bot.runtime).
    found = _fresh(
        f"""
        import {module}
        import bot.runtime
        import aiogram.types as t
        print(json.dumps({{"passport_built": t.PassportData.__pydantic_complete__}}))
        """
    )
    assert found == {"passport_built": False}


def test_the_list_worker_loads_no_aiogram() -> None:
    # Its process draws pickup lists: aiogram there was seconds of start-up and ~70 MB.
    done = subprocess.run(
        [sys.executable, "-c", "import sys, bot.list_worker; print('aiogram' in sys.modules)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "False"


def test_types_are_left_unbuilt_until_used() -> None:
    found = _fresh(
        """
        import aiogram.types as t
        print(json.dumps({
            # no method returns one (it comes inside a Message): not built until met; every
            # update is one, and sendMessage returns a Message: built at load
            "passport_built": t.PassportData.__pydantic_complete__,
            "update_built": t.Update.__pydantic_complete__,
            "message_built": t.Message.__pydantic_complete__,
        }))
        """
    )
    assert found == {"passport_built": False, "update_built": True, "message_built": True}


def test_every_type_method_and_response_builds_and_validates() -> None:
    found = _fresh(
        """
        import aiogram.methods as m
        import aiogram.types as t
        from aiogram.methods.base import Response
        from pydantic import BaseModel

        built, failed = 0, []
        for module in (t, m):
            for name in module.__all__:
                kind = getattr(module, name)
                if isinstance(kind, type) and issubclass(kind, BaseModel):
                    try:
                        kind.model_rebuild()
                        built += 1
                    except Exception as error:
                        failed.append(f"{name}: {error!r}"[:200])
        responses = 0
        for name in m.__all__:
            returning = getattr(getattr(m, name), "__returning__", None)
            if isinstance(returning, property) or returning is None:
                continue
            try:
                Response[returning]
                responses += 1
            except Exception as error:
                failed.append(f"Response[{name}]: {error!r}"[:200])
        update = t.Update.model_validate({
            "update_id": 7,
            "callback_query": {
                "id": "q1", "chat_instance": "c", "data": "j:1:2",
                "from": {"id": 5, "is_bot": False, "first_name": "Olga"},
                "message": {
                    "message_id": 3, "date": 0, "text": "Milk",
                    "chat": {"id": -100, "type": "supergroup", "title": "Garden"},
                    "reply_markup": {"inline_keyboard": [[{"text": "Join", "callback_data": "j"}]]},
                },
            },
        })
        admins = Response[m.GetChatAdministrators.__returning__].model_validate({
            "ok": True,
            "result": [
                {"status": "creator", "is_anonymous": False,
                 "user": {"id": 5, "is_bot": False, "first_name": "Olga"}},
                {"status": "member", "user": {"id": 6, "is_bot": False, "first_name": "Ivan"}},
            ],
        })
        sent = m.SendMessage(
            chat_id=5, text="x",
            reply_markup=t.InlineKeyboardMarkup(
                inline_keyboard=[[t.InlineKeyboardButton(text="Pay", callback_data="p")]]
            ),
        )
        print(json.dumps({
            "built": built, "responses": responses, "failed": failed,
            "press": [update.callback_query.from_user.id, update.callback_query.message.chat.id],
            "admins": [type(a).__name__ for a in admins.result],
            "markup": sent.reply_markup.inline_keyboard[0][0].text,
        }))
        """
    )
    assert found["failed"] == []
    assert isinstance(found["built"], int) and found["built"] > 500  # ~400 types, ~190 methods
    assert isinstance(found["responses"], int) and found["responses"] > 150
    assert found["press"] == [5, -100]
    assert found["admins"] == ["ChatMemberOwner", "ChatMemberMember"]
    assert found["markup"] == "Pay"


def test_types_build_on_first_use_as_the_bot_meets_them() -> None:
    # No explicit rebuild here: pydantic builds each type the first time it is validated,
    # from the namespace bot/lean_types.py handed over.
    found = _fresh(
        """
        import aiogram.methods as m
        import aiogram.types as t

        payer = {"id": 5, "is_bot": False, "first_name": "Olga"}
        group = {"id": -100, "type": "supergroup", "title": "Garden"}
        paid = t.Update.model_validate({
            "update_id": 1,
            "message": {
                "message_id": 9, "date": 0, "chat": {"id": 5, "type": "private",
                "first_name": "Olga"}, "from": payer,
                "successful_payment": {
                    "currency": "XTR", "total_amount": 25, "invoice_payload": "tok",
                    "telegram_payment_charge_id": "ch1", "provider_payment_charge_id": "p1",
                },
            },
        })
        joined = t.Update.model_validate({
            "update_id": 2,
            "my_chat_member": {
                "chat": group, "from": payer, "date": 0,
                "old_chat_member": {"status": "left", "user": payer},
                "new_chat_member": {"status": "member", "user": payer},
            },
        })
        query = t.PreCheckoutQuery.model_validate({
            "id": "pc1", "from": payer, "currency": "XTR", "total_amount": 25,
            "invoice_payload": "tok",
        })
        invoice = m.SendInvoice(
            chat_id=5, title="Milk", description="2 x Milk", payload="tok", currency="XTR",
            prices=[{"label": "Milk", "amount": 25}],
        )
        answer = m.AnswerPreCheckoutQuery(pre_checkout_query_id="pc1", ok=True)
        print(json.dumps({
            "paid": paid.message.successful_payment.telegram_payment_charge_id,
            "joined": type(joined.my_chat_member.new_chat_member).__name__,
            "query": query.total_amount,
            "invoice": invoice.prices[0].amount,
            "answer": answer.ok,
            "built_before": t.InputMediaPhoto.__pydantic_complete__,
        }))
        """
    )
    assert found == {
        "paid": "ch1",
        "joined": "ChatMemberMember",
        "query": 25,
        "invoice": 25,
        "answer": True,
        "built_before": False,  # and an untouched type is still unbuilt
    }

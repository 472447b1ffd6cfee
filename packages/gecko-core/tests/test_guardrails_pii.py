"""PII masking: each kind is found and masked, with validity checks keeping ordinary numbers intact."""

from __future__ import annotations

import pytest

from gecko.core.errors import ConfigurationError
from gecko.core.guardrails import PII_KINDS, PIIMaskingGuardrail, mask_pii
from gecko.core.guardrails.pii import cn_id_valid, iban_valid, luhn_valid

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("text", "masked", "kind"),
    [
        ("mail john.doe+news@example.co.uk today", "mail [EMAIL] today", "email"),
        ("写信给 zhang_san@mail.example.cn 吧", "写信给 [EMAIL] 吧", "email"),
        ("call +44 20 7946 0958 now", "call [PHONE] now", "phone"),
        ("call +1 (555) 123-4567 now", "call [PHONE] now", "phone"),
        ("call (555) 123-4567 now", "call [PHONE] now", "phone"),
        ("call 555-123-4567 now", "call [PHONE] now", "phone"),
        ("手机 13800138000 联系", "手机 [PHONE] 联系", "phone"),
        ("手机 138 0013 8000 联系", "手机 [PHONE] 联系", "phone"),
        ("+86 138 0013 8000", "[PHONE]", "phone"),
        ("card 4111 1111 1111 1111 ok", "card [CREDIT_CARD] ok", "credit_card"),
        ("card 5500-0000-0000-0004 ok", "card [CREDIT_CARD] ok", "credit_card"),
        ("amex 378282246310005.", "amex [CREDIT_CARD].", "credit_card"),
        ("iban DE89 3704 0044 0532 0130 00 please", "iban [IBAN] please", "iban"),
        ("iban GB82WEST12345698765432", "iban [IBAN]", "iban"),
        ("server 192.168.1.10:8080", "server [IPV4]:8080", "ipv4"),
        ("身份证 11010519491231002X 号", "身份证 [CN_ID] 号", "cn_id"),
        ("id 11010519491231002x.", "id [CN_ID].", "cn_id"),
    ],
)
async def test_each_kind_is_masked(text: str, masked: str, kind: str) -> None:
    result = await PIIMaskingGuardrail().check(text)
    assert result.allowed
    assert result.text == masked
    assert result.details == {"masked": {kind: 1}}
    assert result.guardrail == "pii"


@pytest.mark.parametrize(
    "text",
    [
        "card 4111 1111 1111 1112 fails the Luhn check",
        "iban DE89 3704 0044 0532 0130 01 fails mod 97",
        "id 110105194912310021 has a wrong check digit",
        "id 110105194902301234 has no such date (Feb 30)",
        "not an address: 999.1.1.1 or 1.2.3 or 10.0.0.256",
        "Order 12345 shipped on 2024-05-01, version 3.11.2, total $1,234.56 at 10:30",
        "tracking 1Z999AA10123456784 and invoice INV-2024-000123",
        "meet me at 5pm, room 101, floor 3",
        "the value of pi is 3.14159265358979",
        "timestamp 1716200000 and 1716200000123",
        "ISBN 978-3-16-148410-0",
        "ratio 1:2:3 and 12-34-56",
        "user@localhost is not a full address",
    ],
)
async def test_ordinary_text_is_left_alone(text: str) -> None:
    result = await PIIMaskingGuardrail().check(text)
    assert result.allowed
    assert result.text == text
    assert result.details == {}


def test_several_items_are_counted_per_kind() -> None:
    text = "a@example.com, b@example.org, +49 30 12345678, 4111111111111111"
    masked, counts = mask_pii(text)
    assert masked == "[EMAIL], [EMAIL], [PHONE], [CREDIT_CARD]"
    assert counts == {"email": 2, "phone": 1, "credit_card": 1}


async def test_kinds_can_be_selected_and_the_mask_customised() -> None:
    guard = PIIMaskingGuardrail(kinds=["email"], mask="<{kind} removed>")
    result = await guard.check("a@example.com +44 20 7946 0958")
    assert result.text == "<EMAIL removed> +44 20 7946 0958"


async def test_block_action_refuses_inputs_with_personal_data() -> None:
    guard = PIIMaskingGuardrail(action="block")
    blocked = await guard.check("my card is 4111 1111 1111 1111")
    assert not blocked.allowed
    assert blocked.reason == "input contains personal data (1 credit_card)"
    assert (await guard.check("nothing personal here")).allowed


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="unknown PII kinds"):
        PIIMaskingGuardrail(kinds=["email", "passport"])
    with pytest.raises(ConfigurationError, match="action"):
        PIIMaskingGuardrail(action="redact")  # type: ignore[arg-type]


def test_validity_checks() -> None:
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")
    assert iban_valid("GB82 WEST 1234 5698 7654 32") and not iban_valid(
        "GB82 WEST 1234 5698 7654 33"
    )
    assert cn_id_valid("11010519491231002X") and not cn_id_valid("110105194912310020")
    assert set(PII_KINDS) == {"email", "iban", "cn_id", "credit_card", "ipv4", "phone"}

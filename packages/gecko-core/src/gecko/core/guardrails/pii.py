"""``PIIMaskingGuardrail``: mask (or block) personal data before it reaches the model.

Detected kinds, each a pattern plus a validity check where one exists (so
ordinary numbers are not masked):

- ``email``: addresses like ``name@example.com``;
- ``iban``: IBANs, spaced or not, with a valid ISO 13616 mod-97 check;
- ``cn_id``: 18-character Chinese resident ID numbers with a valid birth date
  and ISO 7064 MOD 11-2 check character;
- ``credit_card``: 13-19 digit card numbers (spaces or dashes allowed) with a
  card-network prefix and a valid Luhn checksum;
- ``ipv4``: dotted-quad IPv4 addresses;
- ``phone``: international numbers (``+44 20 7946 0958``), North American
  numbers (``(555) 123-4567``) and Chinese mobile numbers (``138 0013 8000``).

Kinds are applied in that order; each sees the text already masked by the
previous ones, so one number is never masked twice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date
from typing import Literal

from gecko.core.errors import ConfigurationError
from gecko.core.guardrails.base import GuardrailResult

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` pass the Luhn checksum (credit-card numbers)."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """True when ``candidate`` (spaces allowed) is an IBAN with a valid mod-97 check."""
    iban = candidate.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(char, 36)) for char in rearranged)
    return int(number) % 97 == 1


_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"


def cn_id_valid(candidate: str) -> bool:
    """True for an 18-character Chinese resident ID with a real birth date and valid check character."""
    value = candidate.upper()
    if len(value) != 18 or not value[:17].isdigit():
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], _CN_ID_WEIGHTS))
    return _CN_ID_CHECK[total % 11] == value[17]


def _card_valid(candidate: str) -> bool:
    digits = re.sub(r"[ -]", "", candidate)
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_valid(digits)


def _intl_phone_valid(candidate: str) -> bool:
    return 8 <= sum(char.isdigit() for char in candidate) <= 15


def _always(_: str) -> bool:
    return True


_DETECTORS: dict[str, list[tuple[re.Pattern[str], Callable[[str], bool]]]] = {
    "email": [
        (
            re.compile(
                r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@"
                r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                r"\.[A-Za-z]{2,}\b"
            ),
            _always,
        )
    ],
    "iban": [
        (
            re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b"),
            iban_valid,
        )
    ],
    "cn_id": [
        (
            re.compile(
                r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
                r"(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx](?![0-9A-Za-z])"
            ),
            cn_id_valid,
        )
    ],
    "credit_card": [(re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])"), _card_valid)],
    "ipv4": [(re.compile(rf"(?<![\d.])(?:{_OCTET}\.){{3}}{_OCTET}(?!\d|\.\d)"), _always)],
    "phone": [
        (
            re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,4}\)?){2,5}(?!\d)"),
            _intl_phone_valid,
        ),
        (re.compile(r"(?<![\d(])(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.\s]\d{4}(?!\d)"), _always),
        (re.compile(r"(?<!\d)1[3-9]\d(?:[ -]?\d{4}){2}(?!\d)"), _always),
    ],
}

PII_KINDS: tuple[str, ...] = tuple(_DETECTORS)
"""Every kind of personal data the guardrail knows, in the order they are applied."""


def mask_pii(
    text: str, kinds: Iterable[str] = PII_KINDS, *, mask: str = "[{kind}]"
) -> tuple[str, dict[str, int]]:
    """``(masked_text, counts)``: ``text`` with each detected item replaced by ``mask``.

    ``{kind}`` in ``mask`` becomes the upper-case kind (``[EMAIL]``, ``[PHONE]``...).
    """
    wanted = set(kinds)
    counts: dict[str, int] = {}
    for kind in PII_KINDS:
        if kind not in wanted:
            continue
        replacement = mask.replace("{kind}", kind.upper())
        for pattern, valid in _DETECTORS[kind]:

            def substitute(
                match: re.Match[str],
                _valid: Callable[[str], bool] = valid,
                _kind: str = kind,
                _replacement: str = replacement,
            ) -> str:
                if not _valid(match.group(0)):
                    return match.group(0)
                counts[_kind] = counts.get(_kind, 0) + 1
                return _replacement

            text = pattern.sub(substitute, text)
    return text, counts


class PIIMaskingGuardrail:
    """Masks personal data (``action="mask"``, the default) or blocks inputs holding it."""

    name = "pii"

    def __init__(
        self,
        kinds: Iterable[str] = PII_KINDS,
        *,
        action: Literal["mask", "block"] = "mask",
        mask: str = "[{kind}]",
    ) -> None:
        self.kinds = tuple(kinds)
        unknown = sorted(set(self.kinds) - set(PII_KINDS))
        if unknown:
            raise ConfigurationError(
                f"unknown PII kinds {unknown}; known kinds: {', '.join(PII_KINDS)}",
                kinds=unknown,
            )
        if action not in ("mask", "block"):
            raise ConfigurationError(f"action must be 'mask' or 'block', got {action!r}")
        self.action = action
        self.mask = mask

    async def check(self, text: str) -> GuardrailResult:
        masked, counts = mask_pii(text, self.kinds, mask=self.mask)
        if not counts:
            return GuardrailResult(allowed=True, text=text)
        found = ", ".join(f"{count} {kind}" for kind, count in counts.items())
        if self.action == "block":
            return GuardrailResult(
                allowed=False,
                text=text,
                reason=f"input contains personal data ({found})",
                guardrail=self.name,
                details={"found": counts},
            )
        return GuardrailResult(
            allowed=True,
            text=masked,
            reason=f"masked personal data ({found})",
            guardrail=self.name,
            details={"masked": counts},
        )

"""``PromptInjectionGuardrail``: heuristics for inputs that try to override the system prompt.

The input is normalised first, so spacing, case, full-width characters and
zero-width characters do not evade the patterns: Unicode NFKC, zero-width
characters removed, case-folded, then matched twice, once with whitespace runs
collapsed to one space and once with all whitespace removed (CJK text needs no
spaces, so ``忽 略 之 前 的 指 令`` still matches).

The patterns (documented in docs/guardrails.md) look for *instructions aimed
at the assistant*, not for single words: "ignore the previous email" and
"ignore my previous message" pass, "ignore all previous instructions" does not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from gecko.core.errors import ConfigurationError
from gecko.core.guardrails.base import GuardrailResult

_VERB = r"(?:ignore|disregard|forget|override|bypass|neglect)"
_NOUN = r"(?:instructions?|prompts?|rules|directions|guidelines|directives|commands|constraints|programming)"

DEFAULT_PATTERNS: dict[str, str] = {
    # English
    "ignore_instructions": (
        rf"\b{_VERB}\s+(?:(?:all|any|every)\s+(?:of\s+)?)?(?:the\s+|these\s+|those\s+)?"
        r"(?:previous|prior|above|earlier|preceding|former|original|initial|system|developer|"
        rf"foregoing)\s+(?:\w+\s+)?{_NOUN}\b"
    ),
    "ignore_your_instructions": (
        rf"\b{_VERB}\s+(?:(?:all|any)\s+(?:of\s+)?)?your\s+(?:\w+\s+)?(?:{_NOUN}|system prompt)\b"
    ),
    "reveal_system_prompt": (
        r"\b(?:reveal|show|print|display|repeat|output|leak|dump|tell|give|share|what\s+(?:is|are))"
        r"\s+(?:me\s+|us\s+)?(?:all\s+(?:of\s+)?)?your\s+(?:\w+\s+)?"
        r"(?:system\s+prompt|system\s+message|hidden\s+(?:instructions|prompt)|"
        r"initial\s+(?:instructions|prompt)|original\s+(?:instructions|prompt)|instructions)\b"
    ),
    "repeat_text_above": (
        r"\b(?:repeat|print|output|reveal)\s+(?:everything|all|the\s+(?:text|words|instructions))"
        r"\s+(?:above|before\s+this)\b"
    ),
    "unrestricted_persona": (
        r"\b(?:you\s+are\s+now|from\s+now\s+on\s+you\s+are|act\s+as|pretend\s+(?:to\s+be|you\s+are)|"
        r"behave\s+like)\s+(?:an?\s+|in\s+)?(?:dan\b|unrestricted|unfiltered|jailbroken|uncensored|"
        r"developer\s+mode|an?\s+ai\s+(?:with\s+no|without)\s+(?:restrictions|rules|limits))"
    ),
    "do_anything_now": r"\bdo\s+anything\s+now\b",
    "developer_mode": (
        r"\byou\s+(?:are\s+)?(?:now\s+)?(?:in|entering|enter|switch\s+to)\s+"
        r"(?:developer|god|jailbreak|dan)\s+mode\b|\b(?:enable|activate|enter)\s+(?:god|jailbreak|dan)\s+mode\b"
    ),
    "no_restrictions": r"\byou\s+(?:have|are\s+under)\s+no\s+(?:restrictions|rules|limits|filters|guidelines)\b",
    "new_instructions": r"\b(?:new|updated|real|actual|override)\s+(?:system\s+)?instructions?\s*:|\bsystem\s+override\b",
    "fake_role_tag": r"<\|?(?:im_start|im_end|endoftext|system)\|?>|\[/?(?:system|inst)\]|</?system>|#{2,}\s*(?:system|instructions?)\s*:",
    # Chinese (simplified and traditional); matched on the whitespace-free form too
    "zh_ignore_instructions": (
        r"(?:忽略|无视|無視|忽视|忽視|不要理会|不要理會|不要管|忘记|忘記|忘掉|绕过|繞過)"
        r"(?:你|掉)?(?:之前|以上|上面|前面|先前|此前|上述|原来|原來|原有|原始|所有|全部|一切|你的)"
        r"(?:的)?(?:所有|全部|一切)?(?:的)?(?:系统|系統)?"
        r"(?:指令|指示|规则|規則|提示词|提示詞|说明|說明|设定|設定|要求|约束|約束|限制)"
    ),
    "zh_reveal_system_prompt": (
        r"(?:显示|顯示|输出|輸出|打印|告诉我|告訴我|泄露|洩露|透露|重复|重複|给我看|給我看|说出|說出)"
        r"(?:一下)?(?:你的|你)(?:系统|系統|隐藏|隱藏|初始)(?:提示词|提示詞|提示|消息|訊息|指令)"
    ),
    "zh_unrestricted_persona": (
        r"(?:你现在是|你現在是|你将扮演|你將扮演|扮演|假装你是|假裝你是|假设你是|假設你是)"
        r"(?:一个|一個)?(?:没有|沒有|不受)(?:任何)?(?:限制|约束|約束|审查|審查|规则|規則)"
        r"|(?:进入|進入|启用|啟用|开启|開啟)(?:越狱|越獄)模式|你(?:现在|現在)?(?:处于|處於|已进入|已進入)开发者模式"
    ),
    # Japanese, Spanish, French, German, Russian
    "ja_ignore_instructions": r"(?:以前|前|上記|これまで|今まで)の(?:全ての|すべての)?(?:指示|命令|指令|ルール|設定)を(?:無視|忘れ)",
    "es_ignore_instructions": r"\b(?:ignora|ignorar|olvida|olvidar)\s+(?:todas\s+)?(?:las\s+)?(?:instrucciones|reglas)\s+(?:anteriores|previas)\b",
    "fr_ignore_instructions": r"\b(?:ignore|ignorez|ignorer|oublie|oubliez)\s+(?:toutes\s+)?(?:les\s+)?(?:instructions|consignes|règles)\s+(?:précédentes|precedentes|antérieures|anterieures)\b",
    "de_ignore_instructions": r"\b(?:ignoriere|ignorieren|ignoriert|vergiss|vergessen)\s+(?:sie\s+)?(?:alle\s+)?(?:vorherigen|bisherigen|obigen|vorigen|früheren)\s+(?:anweisungen|instruktionen|befehle|regeln)\b",
    "ru_ignore_instructions": r"(?:игнорируй|игнорируйте|игнорировать|забудь|забудьте)\s+(?:все\s+)?(?:предыдущие|прошлые|прежние)\s+(?:инструкции|указания|правила|команды)",
}

_ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff")
)


def normalise(text: str) -> tuple[str, str]:
    """``(spaced, compact)`` forms of ``text`` that the patterns are matched against."""
    folded = unicodedata.normalize("NFKC", text).translate(_ZERO_WIDTH).casefold()
    parts = folded.split()
    return " ".join(parts), "".join(parts)


class PromptInjectionGuardrail:
    """Blocks inputs that match a prompt-injection pattern.

    ``patterns`` replaces the default patterns (``{id: regex}``);
    ``extra_patterns`` adds to them. Patterns are matched against the
    normalised input (case-folded: write them in lower case).
    """

    name = "prompt_injection"

    def __init__(
        self,
        patterns: Mapping[str, str] | None = None,
        *,
        extra_patterns: Mapping[str, str] | None = None,
    ) -> None:
        merged = dict(DEFAULT_PATTERNS if patterns is None else patterns)
        merged.update(extra_patterns or {})
        self.patterns: dict[str, re.Pattern[str]] = {}
        for pattern_id, regex in merged.items():
            try:
                self.patterns[pattern_id] = re.compile(regex)
            except re.error as exc:
                raise ConfigurationError(
                    f"prompt-injection pattern {pattern_id!r} is not a valid regular expression: {exc}",
                    pattern=pattern_id,
                ) from exc

    def find(self, text: str) -> str | None:
        """The id of the first pattern ``text`` matches, or None."""
        forms = normalise(text)
        for pattern_id, pattern in self.patterns.items():
            if any(pattern.search(form) for form in forms):
                return pattern_id
        return None

    async def check(self, text: str) -> GuardrailResult:
        found = self.find(text)
        if found is None:
            return GuardrailResult(allowed=True, text=text)
        return GuardrailResult(
            allowed=False,
            text=text,
            reason=f"possible prompt injection (pattern {found!r})",
            guardrail=self.name,
            details={"pattern": found},
        )

"""The demo's agents: a panel of three experts and three judges.

With GECKO_MODEL set they run on that model through gecko-models-litellm. Without
it they run on Gecko's offline scripted model, answering extractively: each expert
quotes the passage sentence closest to the question from its own angle, each judge
condenses the panel into one line. Same prompts, same workflow, either way.
"""

from __future__ import annotations

import re
from typing import Any

from gecko import Agent, AgentBuilder, create_embedder, create_model
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.core.vectors.records import cosine, norm

EXPERTS = [
    (
        "reliability engineer",
        "You care about failure modes, crash safety and exactly-once effects.",
    ),
    (
        "software architect",
        "You care about the design: how state, checkpoints and plugins fit together.",
    ),
    (
        "developer advocate",
        "You care about what a user has to write and how easy it is to get right.",
    ),
]
JUDGE_PROMPT = (
    "You are a judge. Read the experts' answers and give a one-line verdict (at most 25 words) "
    "that states the answer plainly."
)
JUDGE_DELAYS = (0.05, 0.2, 0.4)  # offline judges answer at different speeds: a real race

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_PASSAGE = re.compile(r"^\[(\d+)\][^\n]*\n(.*?)(?=^\[\d+\]|\Z)", re.S | re.M)


def expert_prompt(role: str, focus: str) -> str:
    return (
        f"You are a {role} reviewing Gecko. {focus} Answer the question in at most three "
        "sentences, using only the numbered passages, and cite them like [2]."
    )


def build_experts(model_id: str | None) -> list[Agent]:
    agents = []
    for index, (role, focus) in enumerate(EXPERTS):
        model = (
            create_model(model_id)
            if model_id
            else ScriptedModel(_expert_reply(index), name="test/expert")
        )
        agents.append(
            AgentBuilder()
            .with_model(model)
            .with_name(role)
            .with_system_prompt(expert_prompt(role, focus))
            .build()
        )
    return agents


def build_judges(model_id: str | None) -> list[Agent]:
    judges = []
    for index, delay in enumerate(JUDGE_DELAYS):
        model = (
            create_model(model_id)
            if model_id
            else ScriptedModel(_judge_reply, name="test/judge", delay=delay)
        )
        judges.append(
            AgentBuilder()
            .with_model(model)
            .with_name(f"judge-{index + 1}")
            .with_system_prompt(JUDGE_PROMPT)
            .build()
        )
    return judges


# --- the offline model's answers ------------------------------------------------------------

_embedder = create_embedder("hash/384")
_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_MARKUP = re.compile(r"^\s*(#+|\||[-*] |\d+\. )", re.M)


def _clean_sentences(text: str) -> list[str]:
    """Prose sentences of a Markdown passage: no code blocks, headings, tables or list markers."""
    prose = _CODE_BLOCK.sub(" ", text)
    lines = [
        _MARKUP.sub("", line)
        for line in prose.splitlines()
        if not line.lstrip().startswith(("#", "|"))
    ]
    prose = " ".join(lines).replace("`", "").replace("**", "")
    sentences = _SENTENCE.split(" ".join(prose.split()))
    return [
        s for s in sentences if 8 <= len(s.split()) <= 45 and not re.search(r"[=(){}]{2,}|\w\(", s)
    ]


def _similarity(question: str, text: str) -> float:
    query, vector = _embedder.embed(question), _embedder.embed(text)
    return cosine(query, vector, norm(query), norm(vector))


def _expert_reply(index: int) -> Any:
    def reply(call: ModelCall) -> str:
        prompt = call.last_user_text
        question = prompt.split("\n", 1)[0].removeprefix("Question:").strip()
        candidates = [
            (number, sentence)
            for number, body in _PASSAGE.findall(prompt)
            for sentence in _clean_sentences(body)
        ]
        if not candidates:
            return "The passages do not cover this question."
        ranked = sorted(candidates, key=lambda item: _similarity(question, item[1]), reverse=True)
        number, sentence = ranked[min(index, len(ranked) - 1)]
        return f"As a {EXPERTS[index][0]}: {sentence} [{number}]"

    return reply


def _judge_reply(call: ModelCall) -> str:
    answers = [line[2:] for line in call.last_user_text.splitlines() if line.startswith("- ")]
    question = call.messages[0].text if call.messages else ""
    if not answers:
        return "Verdict: no expert answered."
    best = max(
        answers, key=lambda answer: _similarity(question + " " + call.last_user_text, answer)
    )
    return "Verdict: " + re.sub(r"^As an? [a-z ]+: ", "", best)

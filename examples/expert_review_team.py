"""Gecko 0.4's "expert review board": a Team of agents, one of which fails.

A failing member never cancels the others (ALL); the aggregation reports who was absent.
Offline, each expert is an agent on the scripted model; with gecko-models-litellm and a key,
use `create_model("zhipu/glm-4-air", temperature=0.8)` or any other provider.
"""

from __future__ import annotations

import asyncio

from gecko import Agent, AgentBuilder
from gecko.compose import MemberResult, Team
from gecko.core.errors import ModelConnectionError
from gecko.core.models.scripted import ScriptedModel


def create_expert(role: str, prompt: str, answer: str | Exception) -> Agent:
    model = ScriptedModel([answer], name="test/expert")
    return (
        AgentBuilder()
        .with_model(model)
        .with_name(role)
        .with_session_id(f"expert_{role}")
        .with_system_prompt(f"You are a {role}. {prompt} Answer in under 50 words.")
        .build()
    )


def aggregate_results(results: list[MemberResult]) -> str:
    lines = []
    for res in results:
        idx = res.member_index + 1
        if res.is_success:
            lines.append(f"expert {idx}: {res.result.content}")
        else:
            lines.append(f"expert {idx}: [absent] ({type(res.error).__name__}: {res.error})")
    return "\n".join(lines)


async def main() -> None:
    optimist = create_expert(
        "optimistic futurist",
        "Predict the brightest future for AI.",
        "AI will make expertise abundant and cheap.",
    )
    pessimist = create_expert(
        "safety researcher",
        "Warn about the largest risk of AI.",
        ModelConnectionError("provider unreachable", provider="test", model="expert"),
    )
    realist = create_expert(
        "pragmatic engineer",
        "Assess AI's next five years.",
        "Expect copilots everywhere and slow, careful automation.",
    )
    team = Team(members=[optimist, pessimist, realist], name="AI_Review_Board", max_concurrent=2)
    results = await team.run("How should we think about the arrival of AGI?")
    print(aggregate_results(results))
    print(f"{sum(r.is_success for r in results)} of {len(results)} experts answered")


if __name__ == "__main__":
    asyncio.run(main())

"""Workflow + Team + SummaryTokenMemory under concurrency: one summarisation call, shared.

Eight agents share one long conversation (one session in one store). The history no longer
fits their token budget, so SummaryTokenMemory summarises the older turns — and although all
eight select their window at the same moment, exactly one summarisation call is made; the
others wait for it and reuse the result (0.4's `_summary_lock` demo, now guaranteed).
"""

from __future__ import annotations

import asyncio

from gecko import AgentBuilder, Message, SummaryTokenMemory, create_storage
from gecko.compose import Team, Workflow
from gecko.core.models.scripted import ScriptedModel

AGENTS = 8


async def main() -> None:
    store = await create_storage("memory://")
    history = [Message.system("You are a support team.")]
    for turn in range(30):
        history.append(
            Message.user(f"Ticket {turn}: the export to CSV fails for account {1000 + turn}.")
        )
        history.append(
            Message.assistant(f"Ticket {turn} is fixed: the account's export quota was raised.")
        )
    summarizer = ScriptedModel(
        lambda call: "30 CSV export tickets, all fixed by raising export quotas.", delay=0.2
    )
    # The whole older part is summarised in one call (chunk_tokens); each agent keeps 300 tokens.
    memory = SummaryTokenMemory(max_tokens=300, model=summarizer, storage=store, chunk_tokens=4000)
    await memory.save("support", history)

    agents = [
        AgentBuilder()
        .with_model(
            ScriptedModel(
                lambda call, i=i: f"agent {i}: seen {len(call.messages)} messages",
                name="test/agent",
            )
        )
        .with_memory(memory)
        .with_session_id("support")
        .with_name(f"agent-{i}")
        .build()
        for i in range(AGENTS)
    ]
    wf = (
        Workflow("support-desk")
        .add_node("triage", lambda q: q)
        .add_node("team", Team(agents, name="desk"))
    )
    wf.add_edge("triage", "team").set_entry_point("triage")
    results = await wf.execute("Any pattern in today's tickets?")

    print(f"{len(results)} agents answered, e.g. {results[0].value.content!r}")
    print(
        f"conversation: {len(history)} messages; each agent's window fits {memory.max_tokens} tokens"
    )
    print(f"summarisation calls to the model: {len(summarizer.calls)}")
    assert len(summarizer.calls) == 1


if __name__ == "__main__":
    asyncio.run(main())

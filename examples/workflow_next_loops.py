"""A workflow that loops with `Next` and carries state with `update_state`.

A writer drafts, a reviewer either sends the draft back (a `Next` jump to "write" with
feedback in the state) or approves it (a `Next` to "publish"). `allow_cycles` allows the loop
and `max_steps` would stop a runaway one.
"""

from __future__ import annotations

import asyncio

from gecko.compose import Next, Workflow, WorkflowContext

REQUIRED = ["intro", "example", "summary"]


async def write(topic: str, ctx: WorkflowContext) -> dict:
    sections = list(ctx.state.get("sections", []))
    missing = ctx.state.get("feedback")
    if missing:
        sections.append(missing)
    ctx.state["sections"] = sections
    ctx.state["drafts"] = ctx.state.get("drafts", 0) + 1
    return {"topic": topic, "sections": sections}


async def review(draft: dict, ctx: WorkflowContext) -> Next:
    missing = [s for s in REQUIRED if s not in draft["sections"]]
    if missing:
        return Next("write", input=draft["topic"], update_state={"feedback": missing[0]})
    return Next("publish", update_state={"feedback": None})


async def publish(draft: dict, ctx: WorkflowContext) -> str:
    return f"'{draft['topic']}' published after {ctx.state['drafts']} drafts: {', '.join(draft['sections'])}"


async def main() -> None:
    wf = Workflow("editorial", allow_cycles=True, max_steps=20)
    wf.add_node("write", write).add_node("review", review).add_node("publish", publish)
    wf.add_edge("write", "review").set_entry_point("write")
    run = await wf.execute("Gecko workflows", return_run=True)
    print(run.output)
    print("steps:", run.summary.steps, "| nodes run:", run.summary.nodes_run)
    print(wf.to_mermaid())


if __name__ == "__main__":
    asyncio.run(main())

"""The demo's workflow: retrieve -> panel (Team, ALL) -> verdict (Team, RACE) -> answer.

retrieve --(passages found)--> panel --> verdict --> answer
    \\--(nothing relevant)--> no_context -------------/
"""

from __future__ import annotations

from typing import Any

from config import DemoConfig
from experts import build_experts, build_judges

from gecko.compose import ExecutionStrategy, MemberResult, Team, Workflow, WorkflowContext
from gecko.rag import RetrievalTool
from gecko.rag.retrieval import describe_match

MIN_SCORE = 0.05


def found_passages(found: dict[str, Any]) -> bool:
    return bool(found["passages"])


def nothing_found(found: dict[str, Any]) -> bool:
    return not found["passages"]


def build_workflow(config: DemoConfig, search: RetrievalTool, **options: Any) -> Workflow:
    async def retrieve(question: str, ctx: WorkflowContext) -> dict[str, Any]:
        matches = await search.search(question)
        passages = [
            {
                "n": n,
                "where": describe_match(m),
                "source": m.metadata.get("source", m.id),
                "text": m.text,
            }
            for n, m in enumerate((m for m in matches if m.score >= MIN_SCORE), start=1)
        ]
        ctx.state["question"] = question
        ctx.state["sources"] = [p["where"] for p in passages]
        return {"question": question, "passages": passages}

    def brief(found: dict[str, Any], index: int) -> str:
        passages = "\n".join(f"[{p['n']}] {p['where']}\n{p['text']}" for p in found["passages"])
        return f"Question: {found['question']}\n\n{passages}"

    def ballot(results: list[MemberResult], index: int) -> str:
        answers = "\n".join(f"- {r.value.content}" for r in results if r.is_success)
        return f"The experts answered:\n{answers}"

    async def no_context(found: dict[str, Any]) -> str:
        return "The documentation has nothing relevant to this question."

    async def answer(ctx: WorkflowContext) -> dict[str, Any]:
        panel = ctx.history.get("panel") or []
        verdict = ctx.history.get("verdict") or []
        return {
            "question": ctx.state["question"],
            "experts": [(r.member_index, r.value.content) for r in panel if r.is_success],
            "verdict": verdict[0].value.content if verdict and verdict[0].is_success else None,
            "sources": ctx.state.get("sources", []),
        }

    panel = Team(build_experts(config.model), name="panel", input_mapper=brief)
    judges = Team(
        build_judges(config.model),
        name="verdict",
        strategy=ExecutionStrategy.RACE,
        input_mapper=ballot,
    )

    wf = Workflow("gecko-demo", storage=config.storage, **options)
    wf.add_node("retrieve", retrieve).add_node("panel", panel).add_node("verdict", judges)
    wf.add_node("no_context", no_context).add_node("answer", answer)
    wf.add_edge("retrieve", "panel", condition=found_passages)
    wf.add_edge("retrieve", "no_context", condition=nothing_found)
    wf.add_edge("panel", "verdict").add_edge("verdict", "answer").add_edge("no_context", "answer")
    return wf.set_entry_point("retrieve")

"""Gecko 0.4's RAG quick start in the new layout: ingest files, give an agent `knowledge_search`.

Offline: the `hash/384` embedder and a scripted model that searches the knowledge base with the
user's question and answers from the best passage. With gecko-models-litellm and a key, use
`create_model("openai/gpt-4o-mini")` and `create_embedder("openai/text-embedding-3-small")`.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from gecko import AgentBuilder, create_embedder, create_storage
from gecko.core.message import ToolCall
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.rag import IngestionPipeline, RetrievalTool

POLICY = """# Expense policy

## Travel
Travel expenses are reimbursed within 30 days of the trip, on presentation of receipts.
Economy class is the rule for flights under six hours.

## Equipment
Laptops are replaced every three years. Monitors need a manager's approval.
"""
API = """# API guide

Authenticate with a bearer token in the Authorization header.
Rate limits are 100 requests per minute per token.
"""


def librarian(call: ModelCall) -> ToolCall | str:
    """Search first; once the passages are back, answer from the best one and cite it."""
    if not call.tool_results:
        return ToolCall(
            name="knowledge_search", arguments=json.dumps({"query": call.last_user_text})
        )
    found = call.tool_results[-1].text
    best = re.search(r"\[1\] (source: [^\n]*)\n(.*?)(?:\n\n\[2\]|\Z)", found, re.S)
    if best is None:
        return "I could not find this in the knowledge base."
    sentences = [s for s in best.group(2).splitlines() if s and not s.startswith("#")]
    return f"{' '.join(sentences[:2])} ({best.group(1)})"


async def main() -> None:
    Path("kb").mkdir(exist_ok=True)
    Path("kb/company_policy.md").write_text(POLICY, encoding="utf-8")
    Path("kb/api_docs.md").write_text(API, encoding="utf-8")

    async with await create_storage("chroma://./my_knowledge_db") as vector_store:
        embedder = create_embedder("hash/384")
        summary = await IngestionPipeline(vector_store, embedder).run(["kb"])
        print(summary)

        rag_tool = RetrievalTool(vector_store=vector_store, embedder=embedder, top_k=3)
        agent = (
            AgentBuilder()
            .with_model(ScriptedModel(librarian))
            .with_tools([rag_tool])
            .with_system_prompt(
                "You are an assistant; consult the knowledge base before answering."
            )
            .build()
        )
        response = await agent.run("How long do reimbursements of travel expenses take?")
        print("Answer:", response.content)
        print("Tool calls:", [call.name for call in response.tool_calls])


if __name__ == "__main__":
    asyncio.run(main())

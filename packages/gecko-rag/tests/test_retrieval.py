"""RetrievalTool: the knowledge_search tool, alone and inside Agent.run on the scripted model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gecko.core.agent import AgentBuilder
from gecko.core.embedders.hashing import HashingEmbedder
from gecko.core.errors import FilterError, ToolArgumentError
from gecko.core.factories import create_storage, create_tool
from gecko.core.message import Role, ToolCall
from gecko.core.models.scripted import ModelCall, ScriptedModel
from gecko.core.protocols import Tool, VectorRecord
from gecko.core.storage.memory_vector import MemoryVectorStore
from gecko.rag import Document, IngestionPipeline, RetrievalTool

pytestmark = pytest.mark.anyio

FACTS = {
    "travel.md": "Travel expenses must be submitted within 30 days of the trip.",
    "meals.md": "Meals are reimbursed up to 40 euros per day.",
    "laptop.md": "Laptops are replaced every three years.",
}


async def knowledge(store: Any, embedder: Any) -> None:
    docs = [
        Document(text=text, metadata={"source": source, "year": 2024})
        for source, text in FACTS.items()
    ]
    await IngestionPipeline(store, embedder).add_documents(docs)


async def test_retrieval_tool_inside_agent_run(backend_store: Any) -> None:
    embedder = HashingEmbedder(128)
    await knowledge(backend_store, embedder)
    tool = RetrievalTool(backend_store, embedder, top_k=2)

    def answer(call: ModelCall) -> str:
        result = next(m for m in reversed(call.messages) if m.role is Role.TOOL)
        assert "travel.md" in result.text
        return "Submit them within 30 days [travel.md]."

    model = ScriptedModel(
        [
            ToolCall(
                id="c1",
                name="knowledge_search",
                arguments=json.dumps({"query": "when to submit travel expenses"}),
            ),
            answer,
        ]
    )
    agent = (
        AgentBuilder()
        .with_model(model)
        .with_tools([tool])
        .with_system_prompt("Use the knowledge base.")
        .build()
    )
    output = await agent.run("How long do I have to submit travel expenses?")
    assert output.content == "Submit them within 30 days [travel.md]."
    [first, second] = model.calls
    assert [t["function"]["name"] for t in first.tools or []] == ["knowledge_search"]
    tool_message = next(m for m in second.messages if m.role is Role.TOOL)
    assert tool_message.text.startswith("Found 2 passage(s) for 'when to submit travel expenses':")
    assert "[1] source: travel.md, score " in tool_message.text
    assert FACTS["travel.md"] in tool_message.text


async def test_format_threshold_and_filters() -> None:
    store, embedder = MemoryVectorStore(), HashingEmbedder(128)
    await knowledge(store, embedder)
    tool = RetrievalTool(store, embedder, top_k=3, filter={"year": 2024}, allow_filter=True)
    assert isinstance(tool, Tool) and tool.name == "knowledge_search"
    assert set(tool.parameters["properties"]) == {"query", "top_k", "filter"}
    text = await tool.execute(
        {"query": "meals per day", "filter": {"source": {"$in": ["meals.md", "laptop.md"]}}}
    )
    assert "travel.md" not in text and text.index("meals.md") < text.index("laptop.md")
    strict = RetrievalTool(store, embedder, score_threshold=0.99)
    assert (
        await strict.execute({"query": "nothing like it"})
        == "No passages in the knowledge base match 'nothing like it'."
    )
    [best] = await RetrievalTool(store, embedder).search(
        "Laptops replaced every three years", top_k=1
    )
    assert best.metadata["source"] == "laptop.md" and best.score > 0.8


async def test_page_and_section_in_passages() -> None:
    store = MemoryVectorStore()
    await store.upsert(
        [
            VectorRecord(
                "x",
                [1.0, 0.0],
                "Body",
                {"source": "manual.pdf", "page": 3, "section": "Setup > Wiring"},
            )
        ]
    )

    class Fixed:
        name, dimension = "fixed", 2

        async def embed_query(self, text: str) -> list[float]:
            return [1.0, 0.0]

        async def embed_documents(self, texts: Any) -> list[list[float]]:
            return [[1.0, 0.0] for _ in texts]

    text = await RetrievalTool(store, Fixed()).execute({"query": "wiring"})
    assert "[1] source: manual.pdf (page 3, section: Setup > Wiring), score 1.000\nBody" in text


async def test_argument_errors() -> None:
    tool = RetrievalTool(MemoryVectorStore(), HashingEmbedder(8), max_top_k=5)
    for bad in [
        {},
        {"query": ""},
        {"query": "x", "top_k": 6},
        {"query": "x", "top_k": True},
        {"query": "x", "filter": {}},
    ]:
        with pytest.raises(ToolArgumentError):
            await tool.execute(bad)
    with pytest.raises(FilterError):
        await RetrievalTool(MemoryVectorStore(), HashingEmbedder(8), allow_filter=True).execute(
            {"query": "x", "filter": {"a": {"$regex": "x"}}}
        )
    with pytest.raises(FilterError):
        RetrievalTool(MemoryVectorStore(), HashingEmbedder(8), filter={"$nor": []})


async def test_registered_tool_opens_a_store_url(tmp_path: Path) -> None:
    url = f"chroma://{tmp_path}/kb"
    async with await create_storage(url) as store:
        await knowledge(store, HashingEmbedder(64))
    tool = create_tool("knowledge_search", vector_store=url, embedder="hash/64", top_k=1)
    assert isinstance(tool, RetrievalTool)
    try:
        text = await tool.execute({"query": "laptops replaced"})
        assert "laptop.md" in text and "[2]" not in text
    finally:
        await tool.aclose()

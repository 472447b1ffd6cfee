"""The Gecko 0.4 RAG quick start, in the new layout, offline (hashing embedder, scripted model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gecko import AgentBuilder, create_embedder, create_model, create_storage
from gecko.rag import IngestionPipeline, RetrievalTool

pytestmark = pytest.mark.anyio


async def test_v04_quick_start_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_pdf: object
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("api_docs.md").write_text("# API\n\nAuthenticate with a bearer token.\n", encoding="utf-8")
    Path("company_policy.pdf").write_bytes(
        make_pdf(["Travel expenses are reimbursed within 30 days"])
    )  # type: ignore[operator]

    # 1. vector store and embedder
    vector_store = await create_storage("chroma://./my_knowledge_db")
    embedder = create_embedder("hash/384")
    # 2. ingestion (once)
    pipeline = IngestionPipeline(vector_store, embedder)
    summary = await pipeline.run(["company_policy.pdf", "api_docs.md"])
    assert summary.files == 2 and summary.ok
    # 3. the retrieval tool
    rag_tool = RetrievalTool(vector_store=vector_store, embedder=embedder, top_k=3)
    # 4. the agent (the scripted model calls every tool once, then answers)
    agent = (
        AgentBuilder()
        .with_model(create_model("test"))
        .with_tools([rag_tool])
        .with_system_prompt("You are an assistant; consult the knowledge base first.")
        .build()
    )
    # 5. ask
    response = await agent.run("What is the travel expense policy?")
    tool_results = [m.text for m in response.messages if m.role.value == "tool"]
    assert len(tool_results) == 1 and tool_results[0].startswith("Found 2 passage(s)")
    assert "company_policy.pdf (page 1)" in tool_results[0]
    await vector_store.close()

"""Vector stores behind extras: ``chroma://``, ``lancedb://``, ``milvus://``,
``postgres+pgvector://`` and ``qdrant://``.

Open them with ``await gecko.core.factories.create_storage(url)``; each module imports
its backend only when a store is opened.
"""

"""File extensions of gecko-rag's own readers (kept import-free for the plugin module)."""

from __future__ import annotations

TEXT_EXTENSIONS = (
    ".txt", ".text", ".md", ".markdown", ".mdx", ".rst", ".adoc", ".org", ".tex", ".log",
    ".py", ".pyi", ".ipynb", ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".java", ".kt", ".scala",
    ".c", ".h", ".cc", ".cpp", ".hpp", ".cs", ".go", ".rs", ".rb", ".php", ".swift", ".m", ".r",
    ".lua", ".pl", ".sh", ".bash", ".zsh", ".ps1", ".sql", ".css", ".scss", ".xml", ".svg",
    ".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".env.example", ".csv", ".tsv", ".properties",
)  # fmt: skip
JSON_EXTENSIONS = (".json", ".jsonl", ".ndjson")
HTML_EXTENSIONS = (".html", ".htm", ".xhtml")
PDF_EXTENSIONS = (".pdf",)

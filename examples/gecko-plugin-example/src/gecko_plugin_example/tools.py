"""The ``word_count`` tool: a plain object implementing Gecko's Tool protocol."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from gecko.core.errors import ToolArgumentError


class WordCount:
    name = "word_count"
    description = "Count the words of a text and return the most frequent ones."
    parameters = {
        "type": "object",
        "properties": {
            "text": {"type": "string", "description": "The text to analyse."},
            "top": {
                "type": "integer",
                "minimum": 1,
                "default": 3,
                "description": "How many frequent words to return.",
            },
        },
        "required": ["text"],
    }

    async def execute(self, arguments: dict[str, Any]) -> dict[str, Any]:
        text = arguments.get("text")
        top = arguments.get("top", 3)
        if not isinstance(text, str) or not isinstance(top, int) or top < 1:
            raise ToolArgumentError(
                "word_count needs 'text' (string) and optional 'top' (integer >= 1)"
            )
        words = re.findall(r"\w+", text.lower())
        return {"words": len(words), "most_common": Counter(words).most_common(top)}


word_count = WordCount()

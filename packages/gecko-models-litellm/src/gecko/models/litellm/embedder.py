"""``LiteLLMEmbedder``: a Gecko Embedder for any litellm embedding model.

    embedder = create_embedder("openai/text-embedding-3-small", batch_size=256, max_concurrency=4)
    vectors = await embedder.embed_documents(texts)       # batched, concurrent, in input order

``dimension`` comes from the ``dimension`` (or OpenAI's ``dimensions``) option,
else litellm's model map, else the first answer (``await embedder.probe_dimension()``
asks once, up front); every answer is checked against it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import anyio

from gecko.core.errors import ConfigurationError, ModelResponseError
from gecko.core.models.tokens import estimate_tokens
from gecko.core.retry import RetryPolicy, retry_async
from gecko.core.validation import check_int
from gecko.models.litellm.base import LiteLLMClient, tokens_after_failure
from gecko.models.litellm.model_info import known_dimension
from gecko.models.litellm.ratelimit import RateLimiter
from gecko.models.litellm.runtime import load_litellm
from gecko.models.litellm.translate import field_of

logger = logging.getLogger(__name__)

_PROBE_TEXT = "dimension probe"


class LiteLLMEmbedder(LiteLLMClient):
    """An embedder reached through litellm. ``embedder_id`` is ``provider/model``."""

    def __init__(
        self,
        embedder_id: str,
        *,
        api_key: Any = None,
        base_url: str | None = None,
        api_base: str | None = None,
        timeout: float | None = None,
        retries: RetryPolicy | int | dict[str, Any] | None = None,
        batch_size: int = 128,
        max_concurrency: int = 4,
        dimension: int | None = None,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        rate_limiter: RateLimiter | None = None,
        **options: Any,
    ) -> None:
        super().__init__(
            embedder_id,
            api_key=api_key,
            base_url=base_url,
            api_base=api_base,
            timeout=timeout,
            retries=retries,
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            rate_limiter=rate_limiter,
            options=options,
        )
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.max_concurrency = check_int("max_concurrency", max_concurrency, minimum=1)
        requested = self.options.get("dimensions")
        if dimension is not None:
            check_int("dimension", dimension, minimum=1)
            if requested is not None and requested != dimension:
                raise ConfigurationError(
                    f"dimension={dimension} contradicts dimensions={requested}",
                    hint="dimensions asks the provider for shorter vectors; dimension states what it returns",
                )
        elif requested is not None:
            dimension = check_int("dimensions", requested, minimum=1)
        else:
            dimension = known_dimension(self.target.litellm_model)
        self.dimension: int | None = dimension
        self._probe_lock: anyio.Lock | None = None

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in input order; batches run concurrently (``max_concurrency``)."""
        texts = list(texts)
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise ConfigurationError(
                    f"texts[{index}] is a {type(text).__name__}, not a str",
                    hint="embed strings; convert or drop other values first",
                )
        if not texts:
            return []
        batches = [texts[i : i + self.batch_size] for i in range(0, len(texts), self.batch_size)]
        results: list[list[list[float]]] = [[] for _ in batches]
        limiter = anyio.CapacityLimiter(self.max_concurrency)

        async def run(index: int, batch: list[str]) -> None:
            async with limiter:
                results[index] = await self._embed_batch(batch)

        if len(batches) == 1:
            results[0] = await self._embed_batch(batches[0])
        else:
            async with anyio.create_task_group() as group:
                for index, batch in enumerate(batches):
                    group.start_soon(run, index, batch)
        return [vector for batch_vectors in results for vector in batch_vectors]

    async def embed_query(self, text: str) -> list[float]:
        return (await self.embed_documents([text]))[0]

    async def probe_dimension(self) -> int:
        """The vector size, asking the provider once if it is not known yet."""
        if self.dimension is not None:
            return self.dimension
        if self._probe_lock is None:
            self._probe_lock = anyio.Lock()
        async with self._probe_lock:
            if self.dimension is None:
                await self.embed_documents([_PROBE_TEXT])
        assert self.dimension is not None
        return self.dimension

    async def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        litellm = await load_litellm()
        kwargs, secrets = self._connection()
        kwargs.update(self.options)
        kwargs["input"] = batch
        kwargs["timeout"] = self.timeout
        where = f"{self.provider}/{self.model}"
        limiter = self.rate_limiter
        estimate = sum(estimate_tokens(text) for text in batch) if limiter and limiter.tokens else 0

        async def attempt() -> list[list[float]]:
            reservation = None if limiter is None else await limiter.acquire(estimate)
            used = estimate
            try:
                try:
                    with anyio.fail_after(self.timeout):
                        raw = await litellm.aembedding(**kwargs)
                    vectors = self._vectors(raw, len(batch), where)
                except Exception as exc:
                    error = self._error(exc, secrets, self.timeout)
                    used = tokens_after_failure(error, estimate)
                    raise error from error.__cause__
                used = int(field_of(field_of(raw, "usage"), "total_tokens") or estimate)
                return vectors
            finally:
                if reservation is not None:
                    reservation.settle(used)

        return await retry_async(attempt, self.retry, what=where, logger=logger)

    def _vectors(self, raw: Any, expected: int, where: str) -> list[list[float]]:
        data = list(field_of(raw, "data") or ())
        if len(data) != expected:
            raise ModelResponseError(
                f"{where} returned {len(data)} embeddings for {expected} texts",
                provider=self.provider,
                model=self.model,
            )
        ordered: list[list[float] | None] = [None] * expected
        for position, item in enumerate(data):
            index = field_of(item, "index")
            index = position if index is None else int(index)
            vector = field_of(item, "embedding")
            if (
                not 0 <= index < expected
                or ordered[index] is not None
                or not isinstance(vector, list)
            ):
                raise ModelResponseError(
                    f"{where} returned a malformed embedding list (index {index!r})",
                    provider=self.provider,
                    model=self.model,
                )
            ordered[index] = [float(x) for x in vector]
        vectors = [v for v in ordered if v is not None]
        sizes = {len(v) for v in vectors}
        if len(sizes) != 1:
            raise ModelResponseError(
                f"{where} returned vectors of different sizes {sorted(sizes)}",
                provider=self.provider,
                model=self.model,
            )
        size = sizes.pop()
        if self.dimension is None:
            self.dimension = size
        elif size != self.dimension:
            raise ModelResponseError(
                f"{where} returned {size}-dimensional vectors, expected {self.dimension}",
                hint="fix the dimension option, or use a vector store created for this model",
                provider=self.provider,
                model=self.model,
            )
        return vectors

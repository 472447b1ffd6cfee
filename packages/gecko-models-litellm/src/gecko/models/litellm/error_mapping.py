"""Turn whatever litellm (or the HTTP stack under it) raised into a Gecko ``ModelError``.

The class is chosen from the real HTTP status when there was a response (found
on the ``httpx.HTTPStatusError`` in the exception chain, or litellm's captured
response headers); litellm's own class is used only when no response exists.
litellm reports malformed provider output as a synthetic 500 with no response:
that becomes ``ModelResponseError``, not a server error. Messages never contain
the API key: every secret of the call is redacted, and the raw exception is kept
as ``__cause__`` only when its text does not contain one.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

from gecko.core.errors import (
    AuthenticationError,
    BadRequestError,
    GeckoError,
    MissingDependencyError,
    ModelConnectionError,
    ModelError,
    ModelResponseError,
    ModelServerError,
    ModelTimeoutError,
    RateLimitError,
)

_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_KEYLIKE = re.compile(
    r"(?i)((?:api[_-]?key|authorization|x-api-key)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{8,}"
)
_PREFIX = re.compile(r"^(?:litellm\.\w+:\s*)+(?:\w+Error:\s*)?(?:\w+Exception\s*-\s*)?")
_AUTH_CLASSES = {"AuthenticationError", "PermissionDeniedError"}
_BAD_REQUEST_CLASSES = {
    "BadRequestError",
    "NotFoundError",
    "UnprocessableEntityError",
    "ContextWindowExceededError",
    "ContentPolicyViolationError",
    "UnsupportedParamsError",
    "InvalidRequestError",
    "RejectedRequestError",
    "ImageFetchError",
    "PaymentRequiredError",
    "LiteLLMUnknownProvider",
}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret and anything that looks like a bearer token or key masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _BEARER.sub(r"\1***", text)
    return _KEYLIKE.sub(r"\1***", text)


def translate_error(
    exc: BaseException,
    *,
    provider: str,
    model: str,
    secrets: Iterable[str] = (),
    timeout: float | None = None,
) -> GeckoError:
    """The Gecko error for ``exc``; Gecko errors pass through unchanged."""
    if isinstance(exc, GeckoError):
        return exc
    missing = next((e for e in _chain(exc) if isinstance(e, ImportError)), None)
    if missing is not None:
        return MissingDependencyError(
            f"litellm needs a module that is not installed to call {provider}/{model}: {missing}",
            hint="pip install 'litellm[mcp]' (calls with tools need it) or the provider's SDK",
            provider=provider,
            model=model,
        )
    secrets = [s for s in secrets if s]
    status = _http_status(exc)
    kind = type(exc).__name__
    detail = redact(_detail(exc), secrets)
    where = f"{provider}/{model}"
    retry_after = retry_after_seconds(_headers(exc))
    context: dict[str, Any] = {"provider": provider, "model": model, "status": status}
    if retry_after is not None:
        context["retry_after"] = retry_after
    error: ModelError
    if status is not None:
        error = _by_status(status, where, detail, context)
    elif _in_chain(exc, _is_timeout):
        limit = f" within {timeout:g} s" if timeout is not None else ""
        error = ModelTimeoutError(
            f"{where} did not answer{limit}",
            hint="raise the model's timeout option, or check the provider's status",
            **context,
        )
    elif _in_chain(exc, _is_connection):
        error = ModelConnectionError(
            f"cannot reach {where}: {detail}",
            hint="check base_url, the network, and that the server is running",
            **context,
        )
    elif kind in _AUTH_CLASSES:
        error = AuthenticationError(
            f"{where} rejected the credentials: {detail}", hint=_AUTH_HINT, **context
        )
    elif kind == "RateLimitError":
        error = RateLimitError(f"{where} is rate limiting requests: {detail}", **context)
    elif kind in _BAD_REQUEST_CLASSES:
        error = BadRequestError(f"{where} rejected the request: {detail}", **context)
    else:
        error = ModelResponseError(
            f"{where} answered with something Gecko cannot read: {detail}",
            hint="the provider or the server at base_url returned malformed output",
            **context,
        )
    error.__cause__ = None if _leaks(exc, secrets) else exc
    error.__suppress_context__ = True
    return error


_AUTH_HINT = "check the API key (the api_key option or the provider's environment variable)"


def _by_status(status: int, where: str, detail: str, context: dict[str, Any]) -> ModelError:
    if status == 429:
        return RateLimitError(
            f"{where} is rate limiting requests (HTTP 429): {detail}",
            hint="lower the request rate (see rate limiting in docs/models.md) or raise your quota",
            **context,
        )
    if status in (401, 403):
        return AuthenticationError(
            f"{where} rejected the credentials (HTTP {status}): {detail}",
            hint=_AUTH_HINT,
            **context,
        )
    if status == 408:
        return ModelTimeoutError(f"{where} timed out (HTTP 408): {detail}", **context)
    if status >= 500:
        return ModelServerError(
            f"{where} failed on the server side (HTTP {status}): {detail}", **context
        )
    return BadRequestError(f"{where} rejected the request (HTTP {status}): {detail}", **context)


def retry_after_seconds(
    headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` as seconds or an HTTP date."""
    if not headers:
        return None
    lowered = {str(k).lower(): str(v).strip() for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, moment.timestamp() - current)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _in_chain(exc: BaseException, predicate: Any) -> bool:
    return any(predicate(e) for e in _chain(exc))


def _module(exc: BaseException) -> str:
    return type(exc).__module__.split(".", 1)[0]


def _is_timeout(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    return isinstance(exc, TimeoutError) or bool(
        names & {"Timeout", "APITimeoutError", "TimeoutException", "ServerTimeoutError"}
    )


def _is_connection(exc: BaseException) -> bool:
    names = {cls.__name__ for cls in type(exc).__mro__}
    if _module(exc) == "litellm":
        return False  # litellm reuses openai's connection classes for other failures
    return isinstance(exc, ConnectionError) or bool(
        names
        & {"APIConnectionError", "ConnectError", "ClientConnectorError", "RemoteProtocolError"}
    )


def _http_status(exc: BaseException) -> int | None:
    """The status of a real HTTP response behind ``exc``, if there was one."""
    for error in _chain(exc):
        if type(error).__name__ == "HTTPStatusError" and _module(error) == "httpx":
            response = getattr(error, "response", None)
            status = getattr(response, "status_code", None)
            if isinstance(status, int):
                return status
    if getattr(exc, "litellm_response_headers", None) is not None:
        status = getattr(exc, "status_code", None)
        if isinstance(status, int):
            return status
    return None


def _headers(exc: BaseException) -> Mapping[str, str] | None:
    captured = getattr(exc, "litellm_response_headers", None)
    if captured:
        return dict(captured)
    for error in _chain(exc):
        response = getattr(error, "response", None)
        headers = getattr(response, "headers", None)
        if headers:
            return dict(headers)
    return None


def _detail(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc) or type(exc).__name__
    text = _PREFIX.sub("", text.strip())
    try:  # a JSON error body: keep its message
        body = json.loads(text)
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            text = str(body["error"].get("message") or text)
    except ValueError:
        pass
    return text.strip() or type(exc).__name__


def _leaks(exc: BaseException, secrets: list[str]) -> bool:
    if not secrets:
        return False
    for error in _chain(exc):
        text = f"{error!s} {getattr(error, 'message', '')} {error.args!r}"
        if any(secret in text for secret in secrets):
            return True
    return False

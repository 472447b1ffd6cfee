"""FunctionTool, @tool and as_tool: schemas from type hints and docstrings, validated arguments."""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
from datetime import date
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from gecko.core.errors import ConfigurationError, ToolArgumentError
from gecko.core.protocols import Tool
from gecko.core.tools import FunctionTool, as_tool, tool
from gecko.core.tools.docstrings import parse_docstring

pytestmark = pytest.mark.anyio


class Address(BaseModel):
    city: str
    zip_code: str = Field(pattern=r"^\d{5}$")


def book(
    guest: str,
    nights: int,
    room: Literal["single", "double"] = "single",
    address: Address | None = None,
    arrival: date | None = None,
) -> dict[str, object]:
    """Book a hotel room.

    Args:
        guest: Full name of the guest.
        nights: How many nights,
            at least one.
        room: Room type.
        address: Billing address.
    """
    return {"guest": guest, "nights": nights, "room": room, "address": address, "arrival": arrival}


def test_schema_from_type_hints_and_google_docstring() -> None:
    booking = FunctionTool(book)
    assert booking.name == "book"
    assert booking.description == "Book a hotel room."
    schema = booking.parameters
    assert schema["type"] == "object"
    assert schema["required"] == ["guest", "nights"]
    assert schema["additionalProperties"] is False
    props = schema["properties"]
    assert props["guest"] == {"type": "string", "description": "Full name of the guest."}
    assert props["nights"] == {"type": "integer", "description": "How many nights, at least one."}
    assert props["room"]["enum"] == ["single", "double"]
    assert props["room"]["default"] == "single"
    assert "$defs" in schema and "Address" in schema["$defs"]
    assert "title" not in schema and "title" not in props["guest"]
    assert "title" not in schema["$defs"]["Address"]["properties"]["city"]


def test_sphinx_and_numpy_docstrings() -> None:
    def sphinx(query: str, limit: int = 5) -> list[str]:
        """Search the catalogue.

        :param query: What to look for.
        :param int limit: Most results
            to return.
        :returns: titles
        """
        return []

    def numpy(query: str, limit: int = 5) -> list[str]:
        """Search the catalogue.

        Parameters
        ----------
        query : str
            What to look for.
        limit : int
            Most results to return.

        Returns
        -------
        list
        """
        return []

    for function in (sphinx, numpy):
        schema = FunctionTool(function).parameters
        assert FunctionTool(function).description == "Search the catalogue."
        assert schema["properties"]["query"]["description"] == "What to look for."
        assert schema["properties"]["limit"]["description"] == "Most results to return."


def test_docstring_summary_stops_at_sections() -> None:
    parsed = parse_docstring(
        """Do a thing.

        More detail here.

        Returns:
            something
        """
    )
    assert parsed.summary == "Do a thing.\n\nMore detail here."
    assert parsed.params == {}


def test_epydoc_and_starred_parameters() -> None:
    epydoc = parse_docstring("Search.\n\n@param query: What to look\n    for.\n@return: titles\n")
    assert (epydoc.summary, epydoc.params) == ("Search.", {"query": "What to look for."})
    google = parse_docstring("Call it.\n\nArgs:\n    *args: Positional.\n    **kwargs: Named.\n")
    assert google.params == {"args": "Positional.", "kwargs": "Named."}


def test_summary_keeps_decorator_lines_and_code_indentation() -> None:
    parsed = parse_docstring(
        """Wrap a function. Use it as::

            @wrap
            def f(): ...

        Args:
            fn: The function.
        """
    )
    assert parsed.summary == "Wrap a function. Use it as::\n\n    @wrap\n    def f(): ..."
    assert parsed.params == {"fn": "The function."}
    # Unindented, docstring_parser's own auto-detection reads "@tool" as an Epydoc field.
    text = "Register a tool.\n\nPut it above a function:\n@tool\ndef add(a: int) -> int: ..."
    assert parse_docstring(text).summary == text


def test_importing_the_agent_does_not_import_docstring_parser() -> None:
    code = "import sys\nfrom gecko import Agent\nprint('docstring_parser' in sys.modules)\n"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_annotated_field_descriptions_are_kept() -> None:
    def scale(
        factor: Annotated[float, Field(gt=0, description="Multiplier, above zero.")],
    ) -> float:
        return factor

    prop = FunctionTool(scale).parameters["properties"]["factor"]
    assert prop["description"] == "Multiplier, above zero."
    assert prop["exclusiveMinimum"] == 0


async def test_arguments_are_validated_and_converted() -> None:
    booking = FunctionTool(book)
    result = await booking.execute(
        {"guest": "Ada", "nights": "3", "address": {"city": "Paris", "zip_code": "75001"}}
    )
    assert result["nights"] == 3  # "3" coerced to int by the schema
    assert isinstance(result["address"], Address)
    assert result["room"] == "single"


async def test_invalid_arguments_name_each_argument() -> None:
    booking = FunctionTool(book)
    with pytest.raises(ToolArgumentError) as info:
        await booking.execute({"nights": "many", "room": "suite", "pets": 2})
    message = str(info.value)
    assert "invalid arguments for tool 'book'" in message
    assert "argument 'guest': missing required argument" in message
    assert "argument 'nights'" in message and "'many'" in message
    assert "argument 'room'" in message
    assert "argument 'pets': unexpected argument" in message
    assert info.value.context["tool"] == "book"
    assert len(info.value.context["errors"]) == 4
    assert "guest: string" in (info.value.hint or "")


async def test_nested_model_errors_name_the_path() -> None:
    with pytest.raises(ToolArgumentError, match=r"argument 'address.zip_code'"):
        await FunctionTool(book).execute(
            {"guest": "Ada", "nights": 1, "address": {"city": "Paris", "zip_code": "x"}}
        )


async def test_sync_functions_run_in_a_worker_thread() -> None:
    def where() -> str:
        return threading.current_thread().name

    assert await FunctionTool(where).execute({}) != threading.current_thread().name
    inline = FunctionTool(where, run_in_thread=False)
    assert await inline.execute({}) == threading.current_thread().name


async def test_async_functions_and_callable_objects() -> None:
    async def double(x: int) -> int:
        """Double a number."""
        return 2 * x

    class Greeter:
        """Greets people."""

        async def __call__(self, name: str) -> str:
            return f"hello {name}"

    assert FunctionTool(double).is_async
    assert await FunctionTool(double).execute({"x": 4}) == 8
    greeter = FunctionTool(Greeter(), name="greet")
    assert greeter.is_async
    assert greeter.description == "Greets people."
    assert await greeter.execute({"name": "Ada"}) == "hello Ada"


async def test_partial_and_positional_only_parameters() -> None:
    def power(base: int, /, exponent: int) -> int:
        return int(base**exponent)

    assert await FunctionTool(power).execute({"base": 2, "exponent": 5}) == 32
    square = FunctionTool(functools.partial(power, exponent=2), name="square")
    assert await square.execute({"base": 7}) == 49


async def test_parameter_names_that_clash_with_pydantic() -> None:
    def odd(model_config: str, json: int, _private: int = 1) -> str:
        return f"{model_config}:{json}:{_private}"

    odd_tool = FunctionTool(odd)
    assert set(odd_tool.parameters["properties"]) == {"model_config", "json", "_private"}
    assert await odd_tool.execute({"model_config": "a", "json": 2}) == "a:2:1"
    with pytest.raises(ToolArgumentError, match="argument 'json'"):
        await odd_tool.execute({"model_config": "a", "json": "x"})


def test_tool_decorator_forms_keep_the_function_callable() -> None:
    @tool
    def plain(a: int) -> int:
        """Plain."""
        return a + 1

    @tool(name="renamed", description="Custom.", timeout=2.5)
    def configured(a: int) -> int:
        return a

    assert isinstance(plain, FunctionTool) and plain.name == "plain"
    assert plain(1) == 2  # still callable as the function
    assert plain.__doc__ == "Plain."
    assert (configured.name, configured.description, configured.timeout) == (
        "renamed",
        "Custom.",
        2.5,
    )
    assert isinstance(plain, Tool)


def test_as_tool_keeps_tools_and_wraps_functions() -> None:
    class Custom:
        name = "custom"
        description = "A hand-written tool."
        parameters: dict[str, object] = {"type": "object", "properties": {}}

        async def execute(self, arguments: dict[str, object]) -> str:
            return "ok"

    custom = Custom()
    assert as_tool(custom) is custom
    wrapped = as_tool(book)
    assert isinstance(wrapped, FunctionTool) and wrapped.name == "book"
    with pytest.raises(ConfigurationError, match="cannot use a int as a tool"):
        as_tool(42)  # type: ignore[arg-type]


def test_bad_tool_definitions_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="invalid tool name '<lambda>'"):
        FunctionTool(lambda x: x)
    with pytest.raises(ConfigurationError, match=r"\*args"):

        def variadic(*args: int) -> int:
            return 0

        FunctionTool(variadic)
    with pytest.raises(ConfigurationError, match="tool timeout must be a number of seconds > 0"):
        FunctionTool(book, timeout=0)
    with pytest.raises(ConfigurationError, match="invalid tool name"):
        FunctionTool(book, name="has space")

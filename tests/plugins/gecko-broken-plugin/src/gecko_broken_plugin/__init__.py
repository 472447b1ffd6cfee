"""A plugin that cannot be imported (tests that Gecko isolates it)."""

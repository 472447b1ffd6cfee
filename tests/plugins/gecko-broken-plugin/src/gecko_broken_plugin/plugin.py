"""Fails on import, like a plugin whose dependency is missing."""

import gecko_dependency_that_is_not_installed  # noqa: F401

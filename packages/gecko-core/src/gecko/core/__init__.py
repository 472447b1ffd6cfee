"""Gecko core: protocols, plugin system, agent runtime, CLI and test kit."""

"""An example third-party Gecko plugin (see docs/plugins.md)."""

"""The ``gecko`` command line."""

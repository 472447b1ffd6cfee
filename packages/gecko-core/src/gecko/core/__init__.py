"""Gecko core: protocols, plugin system, agent runtime, CLI and test kit."""

import logging

# Library convention: Gecko never configures logging, and without a handler of its own
# the ``gecko`` logger would fall through to logging's last-resort handler, printing
# stray warnings on stderr of applications that did not ask for them.
logging.getLogger("gecko").addHandler(logging.NullHandler())

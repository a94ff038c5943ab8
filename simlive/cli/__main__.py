"""``python -m simlive.cli``: the same as the ``simlive`` command."""

from simlive.cli import main

main()

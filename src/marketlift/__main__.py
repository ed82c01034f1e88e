"""``python -m marketlift``: the same as the ``marketlift`` command."""

from marketlift.cli.main import main

main()

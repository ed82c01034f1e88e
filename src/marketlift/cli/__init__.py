"""The ``marketlift`` command: a thin shell over the library."""

__all__: list[str] = []

"""Sub-commands of ``compcalc`` that live outside ``cli.py``: one module per command family.

Each module has ``register(commands)``, which adds its parser(s) to the ``compcalc`` command
line; ``compcalc.cli.build_parser`` calls them. Like ``cli.py`` they are thin: parse, call the
library, print. Shared helpers (``_compute``, ``_period``, ``_error`` ...) come from
``compcalc.cli``, imported inside the handlers.
"""

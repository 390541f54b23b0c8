"""Placeholder: the plantest command(s) are being written."""

from __future__ import annotations

import argparse


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this module's command(s) to the ``compcalc`` command line."""

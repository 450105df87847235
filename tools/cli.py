"""What every command-line tool here shares."""

from __future__ import annotations

import argparse
import signal


class Parser(argparse.ArgumentParser):
    """argparse with its own exit code 2 on bad arguments, without the usage dump noise."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message}\n")


def quiet_on_closed_pipe() -> None:
    """`tool | head` ends quietly instead of with a BrokenPipeError traceback."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

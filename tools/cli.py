"""What every command-line tool here shares."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """argparse with its own exit code 2 on bad arguments, without the usage dump noise."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message}\n")


def quiet_on_closed_pipe() -> None:
    """`tool | head` ends quietly instead of with a BrokenPipeError traceback."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def exit_fast(code: int) -> NoReturn:
    """End a command-line run without the interpreter's teardown: after a preview, the final
    collection and module cleanup rescan every object the SDK made (1.3 s for one region, 3 s
    for sixteen) only to free memory the process returns anyway. Everything the tools write
    is closed already; only the standard streams need flushing. For ``__main__`` blocks only:
    code that imports the tools (tests) keeps the normal exit."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass
    os._exit(code)

"""What every command-line tool here shares."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any, NoReturn


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


def read_json(path: "str | Path", what: str, error: type[Exception]) -> Any:
    """A JSON file a CLI was given, or `error` with one line naming the file and the reason
    (the CLIs print it and exit 2: no traceback for a missing file or bad JSON)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} {p}: no such file") from None
    except IsADirectoryError:
        raise error(f"{what} {p}: is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{what} {p}: cannot read ({exc})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{what} {p}: not valid JSON ({exc.msg} at line {exc.lineno})") from None


def write_json(path: "str | Path", doc: Any, error: type[Exception], sort_keys: bool = False) -> None:
    """Write a CLI's JSON result (indented, newline-terminated), creating its directory; `error`
    with one line when the file cannot be written."""
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(doc, indent=1, sort_keys=sort_keys) + "\n", encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot write {path}: {exc}") from None

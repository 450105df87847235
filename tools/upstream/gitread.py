"""Reading a fetched upstream checkout (a bare git directory is fine): what the refresh scripts share."""

from __future__ import annotations

import subprocess
from typing import Optional


def git(path: str, *args: str) -> str:
    out = subprocess.run(["git", "-C", path, *args], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"git -C {path} {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout


def checkouts(argv: list[str]) -> Optional[dict[str, str]]:
    """`owner/name=PATH` arguments as {repository: path}; None when any argument is not one."""
    given = dict(a.split("=", 1) for a in argv if "=" in a)
    return given if given and len(given) == len(argv) else None

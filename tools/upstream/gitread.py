"""Reading a fetched upstream checkout (a bare git directory is fine): what the refresh scripts share."""

from __future__ import annotations

import subprocess


def git(path: str, *args: str) -> str:
    out = subprocess.run(["git", "-C", path, *args], capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"git -C {path} {' '.join(args)}: {out.stderr.strip()}")
    return out.stdout

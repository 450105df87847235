"""The error model: one ConfigIssue per problem, named by the YAML key path the user must edit,
all of a stack's issues raised together as one ConfigError."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

NAMESPACE = "global-platform"


@dataclass(frozen=True)
class ConfigIssue:
    path: str  # YAML key path below the namespace, e.g. "regions[1].name"
    reason: str

    def __str__(self) -> str:
        return f"{NAMESPACE}:{self.path}: {self.reason}" if self.path else self.reason


class ConfigError(Exception):
    """All problems found in one stack's config, reported together."""

    def __init__(self, issues: list[ConfigIssue], source: str = "stack config"):
        self.issues = issues
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        noun = "problem" if len(self.issues) == 1 else "problems"
        lines = [f"invalid {self.source}: {len(self.issues)} {noun}"]
        lines += [f"  - {issue}" for issue in self.issues]
        return "\n".join(lines)


def _format_loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def issues_from_validation(err: ValidationError) -> list[ConfigIssue]:
    """pydantic's errors as ConfigIssues: camelCase key paths, plain reasons, the offending value."""
    issues = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if p not in ("function-after",))
        msg = e["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if e["type"] == "extra_forbidden":
            msg = "unknown key (typo?)"
        elif e["type"] == "missing":
            msg = "required key is missing"
        elif "input" in e and e["type"] not in ("value_error",) and not isinstance(e["input"], (dict, list)):
            msg = f"{msg} (got {e['input']!r})"
        issues.append(ConfigIssue(_format_loc(loc), msg))
    return issues

"""What every section shares: the model base, shared field types and patterns, and the
annotations the README generator (tools/config_docs.py) reads."""

from __future__ import annotations

from typing import Annotated, Any, Iterable, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# CloudWatch Logs accepts only these retention periods (PutRetentionPolicy).
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                      1096, 1827, 2192, 2557, 2922, 3288, 3653)


def _cloudwatch_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"{value} is not a CloudWatch retention period; use one of {list(LOG_RETENTION_DAYS)}")
    return value


RetentionDays = Annotated[int, AfterValidator(_cloudwatch_retention)]


def is_retention_days(metadata: Iterable[Any]) -> bool:
    """Whether a field's pydantic metadata makes it a RetentionDays."""
    return any(getattr(m, "func", None) is _cloudwatch_retention for m in metadata)


def repeated(values: Iterable[str]) -> list[str]:
    """Values listed more than once, sorted."""
    seen, twice = set(), set()
    for v in values:
        (twice if v in seen else seen).add(v)
    return sorted(twice)


# Patterns the README names in words instead of printing the regex.
PATTERN_NAMES: dict[str, str] = {}


def named_pattern(regex: str, name: str) -> str:
    PATTERN_NAMES[regex] = name
    return regex


SLUG = named_pattern(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$", "slug")
EXACT_SEMVER = named_pattern(r"^\d+\.\d+\.\d+$", "exact `X.Y.Z`")


def doc(type: Optional[str] = None, default: Optional[str] = None) -> dict[str, Any]:
    """``Field(json_schema_extra=doc(...))``: what the README's type and default columns say when
    the annotation cannot (a default that depends on other keys, a string with a known shape)."""
    shown = {"type": type, "default": default}
    return {"docs": {k: v for k, v in shown.items() if v is not None}}


class _Model(BaseModel):
    # camelCase keys in YAML, snake_case in Python; typos are errors, not silently ignored.
    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )

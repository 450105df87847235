"""The validated stack: config model plus address plan, everything checked before any resource."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .config import (ConfigError, ConfigIssue, StackConfig, parse_stack_config, plan_issues, raw_from_pulumi,
                     semantic_issues)
from .ipam import AddressPlan, PlanErrors, RegionRequest, plan_addresses


@dataclass(frozen=True)
class StackSpec:
    config: StackConfig
    plan: AddressPlan


def address_plan(cfg: StackConfig, source: str = "stack config") -> AddressPlan:
    net = cfg.network
    try:
        return plan_addresses(
            supernet=net.supernet,
            reserved=net.reserved_cidrs,
            vpc_prefix=net.vpc_prefix_length,
            regions=[RegionRequest(r.name, r.cidr) for r in cfg.regions],
            worker_ips_per_az=net.worker_ips_per_az,
        )
    except PlanErrors as err:
        raise ConfigError([ConfigIssue(e.path, e.reason) for e in err.errors], source) from None


def _checked(cfg: StackConfig, source: str) -> StackSpec:
    """Cross-section rules and the address plan, every problem reported at once."""
    issues = semantic_issues(cfg)
    try:
        plan = address_plan(cfg, source)
    except ConfigError as err:
        raise ConfigError(issues + err.issues, source) from None
    issues += plan_issues(cfg, plan)
    if issues:
        raise ConfigError(issues, source)
    return StackSpec(cfg, plan)


def build_stack_spec(raw: Mapping[str, Any], source: str = "stack config") -> StackSpec:
    return _checked(parse_stack_config(raw, source), source)


def load_stack_spec_from_pulumi() -> StackSpec:
    """Used by __main__ under a real `pulumi up` and by the offline preview alike."""
    return build_stack_spec(*raw_from_pulumi())

"""`chaos`: AWS FIS experiments from the scenario library, stopped by the SLO alarms; game days."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Optional

from pydantic import Field

from .base import SLUG, RetentionDays, _Model, doc, repeated
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig


class TargetSelection(_Model):
    mode: Literal["ALL", "COUNT", "PERCENT"] = Field("ALL", description="every target, a count or a percentage")
    value: Optional[int] = Field(None, ge=1, le=100000,
                                 description="COUNT: how many (1 or more); PERCENT: 1 to 100; ALL: none")

    def fis(self) -> str:
        return self.mode if self.mode == "ALL" else f"{self.mode}({self.value})"


class ScenarioSpec(_Model):
    scenario: str = Field(description="what the experiment does: a scenario of the library "
                                      "(components/chaos_library.py, listed below)",
                          json_schema_extra=doc(type="scenario name"))
    name: Optional[str] = Field(None, pattern=SLUG, description="names the template; needed to list a scenario twice",
                                json_schema_extra=doc(default="the scenario"))
    parameters: dict[str, Any] = Field(default_factory=dict,
                                       description="the scenario's parameters, checked against the library")
    selection: TargetSelection = Field(default_factory=TargetSelection, description="which targets FIS acts on")
    regions: Optional[list[str]] = Field(None, description="regions that get the template",
                                         json_schema_extra=doc(type="list of region codes", default="every region"))
    stop_on: Optional[list[str]] = Field(None, description="SLOs whose alarms stop the experiment",
                                         json_schema_extra=doc(type="list of SLO names",
                                                               default="every SLO of the region"))

    @property
    def key(self) -> str:
        return self.name or self.scenario


class GameDaySpec(_Model):
    cron: str = Field(description="when: an EventBridge Scheduler expression",
                      json_schema_extra=doc(type="`cron(...)`"))
    time_zone: Optional[str] = Field(None, description="the zone `cron` is read in",
                                     json_schema_extra=doc(type="IANA time zone", default="each region's own"))
    scenarios: list[str] = Field(min_length=1, description="the experiments to start: `name`, else `scenario`, "
                                                           "of `scenarios[]`",
                                 json_schema_extra=doc(type="list of scenario names"))


class ChaosSpec(_Model):
    """The scenarios, their FIS actions and parameters are listed under
    [Chaos scenario library](#chaos-scenario-library)."""
    scenarios: list[ScenarioSpec] = Field(
        default_factory=list,
        description="one FIS experiment template per scenario per region (all regions by default)")
    log_retention_days: RetentionDays = Field(90, description="the FIS log group per region (KMS-encrypted)")
    game_day: Optional[GameDaySpec] = Field(
        None, description="EventBridge Scheduler starts those experiments, in each region's own time zone unless "
                          "given")


def data_target_in(cfg: StackConfig, section: str, region: str) -> bool:
    """Whether `region` has the data-tier resource a scenario acts on. A global database's
    secondaries have no writer, so only the primary (the hub's) can be failed over."""
    spec = getattr(cfg.data, section, None) if cfg.data else None
    if spec is None or (spec.regions is not None and region not in spec.regions):
        return False
    return not (section == "aurora" and spec.global_database and region != cfg.hub.name)


def _secondary_note(cfg: StackConfig, section: str) -> str:
    aurora = cfg.data.aurora if cfg.data else None
    if section == "aurora" and aurora is not None and aurora.global_database:
        return f"; a global database fails over in its primary region, {cfg.hub.name}"
    return ""


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Experiments need SLOs; scenarios checked against the library, the regions and the SLOs; the game day."""
    from ..chaos_library import SCENARIOS, ScenarioError
    from .slos import slo_regions
    from ..schedules import CronError, check_scheduler_cron, check_time_zone

    issues: list[ConfigIssue] = []
    if not cfg.chaos:
        return issues
    regions = set(cfg.region_names)
    slo_names = [s.name for s in cfg.slos]
    if cfg.chaos.scenarios and not cfg.slos:
        issues.append(ConfigIssue("chaos", "experiments need SLOs: their alarms are the stop conditions"))
    keys = [s.key for s in cfg.chaos.scenarios]
    twice = repeated(keys)
    for i, sc in enumerate(cfg.chaos.scenarios):
        base = f"chaos.scenarios[{i}]"
        if sc.key in twice:
            issues.append(ConfigIssue(f"{base}.name", f"'{sc.key}' is used twice; give one a name"))
        entry = SCENARIOS.get(sc.scenario)
        if entry is None:
            issues.append(ConfigIssue(f"{base}.scenario", f"unknown scenario '{sc.scenario}'; known: "
                                      f"{', '.join(sorted(SCENARIOS))}"))
            continue
        try:
            entry.check(sc.parameters, sc.selection, cfg)
        except ScenarioError as err:
            issues.append(ConfigIssue(f"{base}.{err.key}", err.reason))
        sel = sc.selection
        if sel.mode == "ALL" and sel.value is not None:
            issues.append(ConfigIssue(f"{base}.selection.value", "ALL takes no value"))
        if sel.mode == "COUNT" and sel.value is None:
            issues.append(ConfigIssue(f"{base}.selection.value", "COUNT needs how many targets (1 or more)"))
        if sel.mode == "PERCENT" and (sel.value is None or not 1 <= sel.value <= 100):
            issues.append(ConfigIssue(f"{base}.selection.value", "PERCENT needs a value from 1 to 100"))
        for r in sc.regions or []:
            if r not in regions:
                issues.append(ConfigIssue(f"{base}.regions", f"'{r}' is not one of this stack's regions"))
            elif entry.needs and not data_target_in(cfg, entry.needs, r):
                issues.append(ConfigIssue(f"{base}.regions", f"'{sc.scenario}' has nothing to act on in '{r}' "
                                                             f"(no data.{entry.needs} there{_secondary_note(cfg, entry.needs)})"))
        runs_in = {r for r in (sc.regions or cfg.region_names)
                   if entry is None or entry.needs is None or data_target_in(cfg, entry.needs, r)}
        for name in sc.stop_on or []:
            if name not in slo_names:
                issues.append(ConfigIssue(f"{base}.stopOn", f"no SLO named '{name}' (SLOs: {', '.join(slo_names) or 'none'})"))
                continue
            missing = sorted(runs_in - slo_regions(cfg, cfg.slos[slo_names.index(name)]))
            if missing:
                issues.append(ConfigIssue(f"{base}.stopOn", f"SLO '{name}' has no alarm in {', '.join(missing)}, "
                                                            "where this experiment runs"))
    gd = cfg.chaos.game_day
    if gd:
        try:
            check_scheduler_cron(gd.cron)
        except CronError as err:
            issues.append(ConfigIssue("chaos.gameDay.cron", str(err)))
        if gd.time_zone and not check_time_zone(gd.time_zone):
            issues.append(ConfigIssue("chaos.gameDay.timeZone", f"'{gd.time_zone}' is not an IANA time zone"))
        for name in gd.scenarios:
            if name not in keys:
                issues.append(ConfigIssue("chaos.gameDay.scenarios", f"no scenario named '{name}'"))
    return issues

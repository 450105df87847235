"""`chaos`: AWS FIS experiments from the scenario library, stopped by the SLO alarms; multi-step
experiments, blast-radius limits, notices to the organisation, game days."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Optional

from pydantic import Field

from .base import SLUG, RetentionDays, _Model, doc, repeated
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# FIS experiment statuses (botocore fis 2020-12-01, ExperimentStatus), what `new-state.status`
# of a "FIS Experiment State Change" event holds.
EXPERIMENT_STATES = ("pending", "initiating", "running", "completed", "stopping", "stopped", "failed", "cancelled")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
HTTPS = re.compile(r"^https://[^/\s:]+(:\d+)?(/\S*)?$")


class TargetSelection(_Model):
    mode: Literal["ALL", "COUNT", "PERCENT"] = Field("ALL", description="every target, a count or a percentage")
    value: Optional[int] = Field(None, ge=1, le=100000,
                                 description="COUNT: how many (1 or more); PERCENT: 1 to 100; ALL: none")

    def fis(self) -> str:
        return self.mode if self.mode == "ALL" else f"{self.mode}({self.value})"


class StepSpec(_Model):
    name: str = Field(pattern=SLUG, description="names the step (its FIS action); unique in the experiment")
    scenario: str = Field(description="a scenario of the library (not a composite one)",
                          json_schema_extra=doc(type="scenario name"))
    parameters: dict[str, Any] = Field(default_factory=dict,
                                       description="the scenario's parameters, checked against the library")
    selection: TargetSelection = Field(default_factory=TargetSelection, description="which targets FIS acts on")
    start_after: list[str] = Field(
        default_factory=list, description="steps that must end before this one starts (FIS `startAfter`); "
                                          "none: it starts with the experiment, in parallel with the others",
        json_schema_extra=doc(type="list of step names"))


class ScenarioSpec(_Model):
    scenario: Optional[str] = Field(None, description="what the experiment does: a scenario of the library "
                                                      "(components/chaos_library.py, listed below)",
                                    json_schema_extra=doc(type="scenario name", default="required without `steps`"))
    name: Optional[str] = Field(None, pattern=SLUG, description="names the template; needed to list a scenario "
                                                                 "twice, and with `steps`",
                                json_schema_extra=doc(default="the scenario"))
    parameters: dict[str, Any] = Field(default_factory=dict,
                                       description="the scenario's parameters, checked against the library")
    selection: TargetSelection = Field(default_factory=TargetSelection, description="which targets FIS acts on")
    steps: Optional[list[StepSpec]] = Field(
        None, min_length=1,
        description="instead of `scenario`: one template whose actions are these steps, run in parallel or in "
                    "sequence (`startAfter`), with one role holding what every step needs",
        json_schema_extra=doc(type="list of step objects", default="none"))
    regions: Optional[list[str]] = Field(None, description="regions that get the template",
                                         json_schema_extra=doc(type="list of region codes", default="every region"))
    stop_on: Optional[list[str]] = Field(None, description="SLOs whose alarms stop the experiment (FIS takes 5 at "
                                                           "most)",
                                         json_schema_extra=doc(type="list of SLO names", default="`chaos.stopOn`"))

    @property
    def key(self) -> str:
        return self.name or self.scenario or ""


class GameDaySpec(_Model):
    cron: str = Field(description="when: an EventBridge Scheduler expression",
                      json_schema_extra=doc(type="`cron(...)`"))
    time_zone: Optional[str] = Field(None, description="the zone `cron` is read in",
                                     json_schema_extra=doc(type="IANA time zone", default="each region's own"))
    scenarios: list[str] = Field(min_length=1, description="the experiments to start: `name`, else `scenario`, "
                                                           "of `scenarios[]`",
                                 json_schema_extra=doc(type="list of scenario names"))


class BlastRadiusSpec(_Model):
    """Checked before anything is registered, for every experiment and every step."""
    max_percent: int = Field(50, ge=1, le=100,
                             description="the largest PERCENT selection, and the largest share a scenario's own "
                                         "percentage of targets may take (`instanceTerminationPercentage`); ALL "
                                         "on targets selected by tags or labels (nodes, spot instances, pods), "
                                         "whose number nothing bounds, counts as 100")
    single_az: bool = Field(True, description="an experiment's AZ-scoped steps act on one AZ slot, and none of "
                                              "its other steps acts across AZs")
    max_targets: int = Field(5, ge=1, le=1000,
                             description="the largest COUNT selection, and the most resources ALL may select where "
                                         "config fixes their number (subnets of an AZ slot, node groups); 5 is "
                                         "FIS's default per-action target quota")


class NotificationsSpec(_Model):
    """Per region: an EventBridge rule on the region's FIS experiment state changes (source
    `aws.fis`, detail-type `FIS Experiment State Change`) publishing to an SNS topic encrypted with
    a key of its own that EventBridge may use; the topic admits that rule only. Its ARN is written
    to `/global-platform/<env>/chaos/<region>/notifications-topic-arn` for the organisation's
    subscriptions."""
    subscribers: list[str] = Field(
        default_factory=list,
        description="email addresses or `https://` URLs subscribed to every region's topic; each stays pending "
                    "until its owner confirms the message SNS sends",
        json_schema_extra=doc(type="list of emails or https URLs"))
    states: Optional[list[Literal[EXPERIMENT_STATES]]] = Field(  # type: ignore[valid-type]
        None, description="the experiment statuses that notify",
        json_schema_extra=doc(type="list of " + " | ".join(f"`{s}`" for s in EXPERIMENT_STATES),
                              default="every status"))


class ChaosSpec(_Model):
    """The scenarios, their FIS actions and parameters are listed under
    [Chaos scenario library](#chaos-scenario-library)."""
    scenarios: list[ScenarioSpec] = Field(
        default_factory=list,
        description="one FIS experiment template per scenario per region (all regions by default)")
    log_retention_days: RetentionDays = Field(90, description="the FIS log group per region (KMS-encrypted)")
    stop_on: Optional[list[str]] = Field(
        None, description="SLOs whose alarms stop every experiment that names none (FIS takes 5 at most)",
        json_schema_extra=doc(type="list of SLO names", default="every SLO of the region"))
    blast_radius: BlastRadiusSpec = Field(default_factory=BlastRadiusSpec,
                                          description="limits every experiment must stay within")
    notifications: Optional[NotificationsSpec] = Field(
        default_factory=NotificationsSpec,
        description="every FIS experiment state change in a region (EventBridge rule) to an SNS topic there, "
                    "encrypted with a key of its own; the topic's ARN is in "
                    "`/global-platform/<env>/chaos/<region>/notifications-topic-arn` for subscriptions; `null` turns "
                    "them off",
        json_schema_extra=doc(default="on, no subscribers"))
    game_day: Optional[GameDaySpec] = Field(
        None, description="EventBridge Scheduler starts those experiments, in each region's own time zone unless "
                          "given")

    def stop_on_of(self, sc: ScenarioSpec) -> Optional[list[str]]:
        """The SLOs an experiment stops on; None: every SLO of its region."""
        return sc.stop_on or self.stop_on


@dataclass(frozen=True)
class ResolvedStep:
    """One step of an experiment once composites are unfolded: a single scenario of the library."""
    name: str
    scenario: str
    parameters: dict
    selection: TargetSelection
    start_after: tuple[str, ...]
    path: str  # the config key it came from (for errors)


def resolve_steps(sc: ScenarioSpec, base: str = "") -> list[ResolvedStep]:
    """An experiment's steps: its own `steps`, a composite scenario's steps (the composite's
    `selection` going to the step that takes it), or one step named `inject`."""
    from ..chaos_library import SCENARIOS
    if sc.steps is not None:
        return [ResolvedStep(st.name, st.scenario, dict(st.parameters), st.selection, tuple(st.start_after),
                             f"{base}.steps[{i}]") for i, st in enumerate(sc.steps)]
    entry = SCENARIOS.get(sc.scenario or "")
    if entry is not None and entry.steps:
        params = entry.resolved(sc.parameters)
        return [ResolvedStep(st.name, st.scenario, st.parameters(params),
                             sc.selection if st.takes_selection else TargetSelection(), st.start_after, base)
                for st in entry.steps]
    return [ResolvedStep("inject", sc.scenario or "", dict(sc.parameters), sc.selection, (), base)]


def action_names(steps: list[ResolvedStep], cfg: StackConfig) -> dict[str, list[str]]:
    """Step name -> the FIS action names it becomes (a step whose scenario builds several plans
    becomes one action per plan, `<step>-<plan key>`)."""
    from ..chaos_library import SCENARIOS
    out: dict[str, list[str]] = {}
    for st in steps:
        keys = SCENARIOS[st.scenario].plan_keys(cfg) if st.scenario in SCENARIOS else ("",)
        out[st.name] = [st.name if not k else f"{st.name}-{k}" for k in keys]
    return out


def data_target_in(cfg: StackConfig, section: str, region: str) -> bool:
    """Whether `region` has the data-tier resource a scenario acts on. A global database's
    secondaries have no writer, so only the primary (the hub's) can be failed over."""
    spec = getattr(cfg.data, section)
    if spec is None or (spec.regions is not None and region not in spec.regions):
        return False
    return not (section == "aurora" and spec.global_database and region != cfg.hub.name)


def experiment_needs(sc: ScenarioSpec) -> list[str]:
    """The data sections an experiment's steps act on."""
    from ..chaos_library import SCENARIOS
    needs = []
    for st in resolve_steps(sc):
        entry = SCENARIOS.get(st.scenario)
        if entry is not None and entry.needs and entry.needs not in needs:
            needs.append(entry.needs)
    return needs


def runs_in(cfg: StackConfig, sc: ScenarioSpec, region: str) -> bool:
    """Whether the experiment gets a template in `region`: listed (or every region), and every
    data-tier target its steps act on is there (config rules refuse explicit regions without one)."""
    return region in (sc.regions or cfg.region_names) and all(
        data_target_in(cfg, need, region) for need in experiment_needs(sc))


def _secondary_note(cfg: StackConfig, section: str) -> str:
    aurora = cfg.data.aurora
    if section == "aurora" and aurora is not None and aurora.global_database:
        return f"; a global database fails over in its primary region, {cfg.hub.name}"
    return ""


def _selection_issues(sel: TargetSelection, path: str) -> list[ConfigIssue]:
    if sel.mode == "ALL" and sel.value is not None:
        return [ConfigIssue(f"{path}.selection.value", "ALL takes no value")]
    if sel.mode == "COUNT" and sel.value is None:
        return [ConfigIssue(f"{path}.selection.value", "COUNT needs how many targets (1 or more)")]
    if sel.mode == "PERCENT" and (sel.value is None or not 1 <= sel.value <= 100):
        return [ConfigIssue(f"{path}.selection.value", "PERCENT needs a value from 1 to 100")]
    return []


def _blast_radius_issues(cfg: StackConfig, st: ResolvedStep, path: str) -> list[ConfigIssue]:
    """One step against chaos.blastRadius. ALL on targets nothing bounds (tags, labels) counts as
    PERCENT(100); ALL on targets config fixes counts as that many targets."""
    from ..chaos_library import SCENARIOS
    br, entry, sel = cfg.chaos.blast_radius, SCENARIOS[st.scenario], st.selection
    where = "chaos.blastRadius"
    out: list[ConfigIssue] = []
    if entry.percent_parameter:
        share = entry.resolved(st.parameters).get(entry.percent_parameter)
        if isinstance(share, int) and share > br.max_percent:
            out.append(ConfigIssue(f"{path}.parameters.{entry.percent_parameter}",
                                   f"{share}% of the targets is over {where}.maxPercent ({br.max_percent})"))
    if entry.scope == "none":
        return out
    if sel.mode == "PERCENT" and sel.value is not None and sel.value > br.max_percent:
        out.append(ConfigIssue(f"{path}.selection.value",
                               f"PERCENT({sel.value}) is over {where}.maxPercent ({br.max_percent})"))
    if sel.mode == "COUNT" and sel.value is not None and sel.value > br.max_targets:
        out.append(ConfigIssue(f"{path}.selection.value",
                               f"COUNT({sel.value}) is over {where}.maxTargets ({br.max_targets})"))
    if sel.mode == "ALL":
        if entry.bounded is None:
            if br.max_percent < 100:
                out.append(ConfigIssue(f"{path}.selection.mode",
                                       f"ALL on '{st.scenario}' targets (selected by tags or labels: nothing bounds "
                                       f"how many) counts as 100%, over {where}.maxPercent ({br.max_percent}); "
                                       "select a COUNT or a PERCENT"))
        else:
            n = entry.bounded(cfg)
            if n > br.max_targets:
                out.append(ConfigIssue(f"{path}.selection.mode",
                                       f"ALL selects {n} targets for '{st.scenario}', over {where}.maxTargets "
                                       f"({br.max_targets})"))
    return out


def _az_issues(cfg: StackConfig, steps: list[ResolvedStep], base: str) -> list[ConfigIssue]:
    """singleAz: the AZ-scoped steps name one slot, and no step acts across AZs beside them."""
    from ..chaos_library import SCENARIOS
    if not cfg.chaos.blast_radius.single_az:
        return []
    known = [st for st in steps if st.scenario in SCENARIOS]
    zonal = {st.name: SCENARIOS[st.scenario].resolved(st.parameters).get("az")
             for st in known if SCENARIOS[st.scenario].scope == "az"}
    wide = [st.name for st in known if SCENARIOS[st.scenario].scope == "region"]
    key = f"{base}.steps" if any(st.path != base for st in steps) else base
    if len(set(zonal.values())) > 1:
        slots = ", ".join(f"{n}: {a}" for n, a in zonal.items())
        return [ConfigIssue(key, f"the steps act on more than one AZ slot ({slots}) and "
                                 "chaos.blastRadius.singleAz is on")]
    if zonal and wide:
        return [ConfigIssue(key, f"{', '.join(wide)} act{'s' if len(wide) == 1 else ''} across AZs beside the AZ-scoped "
                            f"{', '.join(zonal)}, so the experiment spans more than one AZ and "
                            "chaos.blastRadius.singleAz is on")]
    return []


def _width(graph: dict[str, set[str]]) -> int:
    """The most actions that can run at once: the largest set of actions no startAfter chain
    orders (Dilworth: actions minus a maximum matching of the order's transitive closure)."""
    nodes = list(graph)
    after: dict[str, set[str]] = {}

    def reach(n: str) -> set[str]:
        if n not in after:
            after[n] = set()
            for m in graph[n]:
                after[n] |= {m} | reach(m)
        return after[n]

    later = {n: set() for n in nodes}  # n -> actions that start after n ends (transitively)
    for n in nodes:
        for m in reach(n):
            later[m].add(n)
    match: dict[str, str] = {}

    def augment(n: str, seen: set[str]) -> bool:
        for m in later[n]:
            if m in seen:
                continue
            seen.add(m)
            if m not in match or augment(match[m], seen):
                match[m] = n
                return True
        return False

    return len(nodes) - sum(augment(n, set()) for n in nodes)


def _cycle(graph: dict[str, set[str]]) -> Optional[list[str]]:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(n: str) -> Optional[list[str]]:
        state[n] = 1
        path.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return path[path.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        state[n] = 2
        path.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def _longest_minutes(steps: list[ResolvedStep]) -> int:
    from ..chaos_library import SCENARIOS
    minutes = {st.name: SCENARIOS[st.scenario].minutes(SCENARIOS[st.scenario].resolved(st.parameters))
               for st in steps}
    after = {st.name: set(st.start_after) for st in steps}
    done: dict[str, int] = {}

    def end(n: str) -> int:
        if n not in done:
            done[n] = minutes[n] + max((end(m) for m in after[n] if m in after), default=0)
        return done[n]

    return max((end(st.name) for st in steps), default=0)


def _steps_issues(cfg: StackConfig, sc: ScenarioSpec, base: str) -> list[ConfigIssue]:
    """A multi-step experiment: step names, scenarios, startAfter references and order, and the
    FIS template quotas."""
    from ..chaos_library import MAX_ACTIONS, MAX_EXPERIMENT_MINUTES, MAX_PARALLEL_ACTIONS, SCENARIOS, ScenarioError
    out: list[ConfigIssue] = []
    steps = resolve_steps(sc, base)
    own = sc.steps is not None
    if own:
        if sc.scenario is not None:
            out.append(ConfigIssue(f"{base}.scenario", "give either `scenario` or `steps`, not both"))
        if sc.name is None:
            out.append(ConfigIssue(f"{base}.name", "an experiment of `steps` needs a name"))
        for key in ("parameters", "selection"):
            if key in sc.model_fields_set:
                out.append(ConfigIssue(f"{base}.{key}", f"with `steps`, each step takes its own {key}"))
        for name in repeated(st.name for st in steps):
            out.append(ConfigIssue(f"{base}.steps", f"step '{name}' is named twice"))
    names = {st.name for st in steps}
    for st in steps:
        entry = SCENARIOS.get(st.scenario)
        if own:
            if entry is None:
                out.append(ConfigIssue(f"{st.path}.scenario", f"unknown scenario '{st.scenario}'; known: "
                                                              f"{', '.join(sorted(SCENARIOS))}"))
                continue
            if entry.steps:
                out.append(ConfigIssue(f"{st.path}.scenario", f"'{st.scenario}' is itself made of steps; list "
                                                              "its steps' scenarios instead"))
                continue
            try:
                entry.check(st.parameters, st.selection, cfg)
            except ScenarioError as err:
                out.append(ConfigIssue(f"{st.path}.{err.key}", err.reason))
            out += _selection_issues(st.selection, st.path)
            for ref in st.start_after:
                if ref not in names:
                    out.append(ConfigIssue(f"{st.path}.startAfter", f"no step named '{ref}' in this experiment "
                                                                    "(startAfter names steps of the same template)"))
                elif ref == st.name:
                    out.append(ConfigIssue(f"{st.path}.startAfter", "a step cannot start after itself"))
        if entry is not None and not entry.steps:
            out += _blast_radius_issues(cfg, st, st.path)
    if out:
        return out
    cycle = _cycle({st.name: set(st.start_after) for st in steps})
    if cycle:
        return [ConfigIssue(f"{base}.steps", f"startAfter goes round in a circle: {' -> '.join(reversed(cycle))}")]
    names_of = action_names(steps, cfg)
    actions = {a: {b for ref in st.start_after for b in names_of[ref]} for st in steps for a in names_of[st.name]}
    if len(actions) > MAX_ACTIONS:
        out.append(ConfigIssue(f"{base}.steps", f"{len(actions)} FIS actions; a template takes {MAX_ACTIONS} at most "
                                                "(quota L-0BFE6B67, not adjustable)"))
    width = _width(actions)
    if width > MAX_PARALLEL_ACTIONS:
        out.append(ConfigIssue(f"{base}.steps", f"{width} actions can run at once; FIS runs {MAX_PARALLEL_ACTIONS} "
                                                "in parallel at most (quota L-EB051440): order some with startAfter"))
    if len(set(a for a in actions)) != sum(len(v) for v in names_of.values()):
        out.append(ConfigIssue(f"{base}.steps", "two steps would give FIS actions the same name; rename one"))
    minutes = _longest_minutes(steps)
    if minutes > MAX_EXPERIMENT_MINUTES:
        out.append(ConfigIssue(f"{base}.steps", f"the longest startAfter chain lasts {minutes} minutes; an experiment "
                                                f"runs {MAX_EXPERIMENT_MINUTES} at most (quota L-6C1E4427)"))
    return out + _az_issues(cfg, steps, base)


def _default_stop_on_issues(cfg: StackConfig) -> list[ConfigIssue]:
    from ..chaos_library import MAX_STOP_CONDITIONS
    names, slo_names = cfg.chaos.stop_on, [s.name for s in cfg.slos]
    if names is None:
        return []
    out = [ConfigIssue("chaos.stopOn", f"no SLO named '{n}' (SLOs: {', '.join(slo_names) or 'none'})")
           for n in names if n not in slo_names]
    if not names:
        out.append(ConfigIssue("chaos.stopOn", "an empty list would stop nothing; leave it out for every SLO"))
    if len(names) > MAX_STOP_CONDITIONS:
        out.append(ConfigIssue("chaos.stopOn", f"{len(names)} SLOs; FIS takes {MAX_STOP_CONDITIONS} stop conditions "
                                               "per template (quota L-872EC72B, not adjustable)"))
    return out


def _stop_on_issues(cfg: StackConfig, sc: ScenarioSpec, base: str, regions: set[str]) -> list[ConfigIssue]:
    from ..chaos_library import MAX_STOP_CONDITIONS
    from .slos import slo_regions
    slo_names = [s.name for s in cfg.slos]
    key = f"{base}.stopOn" if sc.stop_on else "chaos.stopOn"
    names = cfg.chaos.stop_on_of(sc)
    if not sc.stop_on and names and (_default_stop_on_issues(cfg) or len(names) > MAX_STOP_CONDITIONS):
        return []  # reported once, at chaos.stopOn
    out: list[ConfigIssue] = []
    for name in names or []:
        if name not in slo_names:
            out.append(ConfigIssue(key, f"no SLO named '{name}' (SLOs: {', '.join(slo_names) or 'none'})"))
            continue
        missing = sorted(regions - slo_regions(cfg, cfg.slos[slo_names.index(name)]))
        if missing:
            out.append(ConfigIssue(key, f"SLO '{name}' has no alarm in {', '.join(missing)}, where "
                                        f"{sc.key} runs"))
    if out:
        return out
    for region in sorted(regions):
        count = len(names) if names else sum(region in slo_regions(cfg, s) for s in cfg.slos)
        if count > MAX_STOP_CONDITIONS:
            how = "name at most 5" if names else "name at most 5 here or in chaos.stopOn (every SLO is the default)"
            out.append(ConfigIssue(f"{base}.stopOn", f"{count} stop conditions in {region}; FIS takes "
                                                     f"{MAX_STOP_CONDITIONS} per template (quota L-872EC72B, not "
                                                     f"adjustable): {how}"))
            break
    return out


def _notification_issues(cfg: StackConfig) -> list[ConfigIssue]:
    n = cfg.chaos.notifications
    out: list[ConfigIssue] = []
    if n is None:
        return out
    for i, s in enumerate(n.subscribers):
        if not (EMAIL.match(s) or HTTPS.match(s)):
            out.append(ConfigIssue(f"chaos.notifications.subscribers[{i}]",
                                   f"'{s}' is neither an email address nor an https:// URL"))
    for s in repeated(n.subscribers):
        out.append(ConfigIssue("chaos.notifications.subscribers", f"'{s}' is listed twice"))
    if n.states is not None and not n.states:
        out.append(ConfigIssue("chaos.notifications.states", "an empty list would notify nothing; leave it out for "
                                                             "every status, or set notifications: null"))
    return out


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Experiments need SLOs; scenarios and steps checked against the library, the regions, the SLOs,
    the blast radius and FIS's quotas; notifications; the game day."""
    from ..chaos_library import SCENARIOS, ScenarioError
    from ..schedules import CronError, check_scheduler_cron, check_time_zone

    issues: list[ConfigIssue] = []
    if not cfg.chaos:
        return issues
    regions = set(cfg.region_names)
    if cfg.chaos.scenarios and not cfg.slos:
        issues.append(ConfigIssue("chaos", "experiments need SLOs: their alarms are the stop conditions"))
    keys = [s.key for s in cfg.chaos.scenarios]
    twice = repeated(keys)
    for i, sc in enumerate(cfg.chaos.scenarios):
        base = f"chaos.scenarios[{i}]"
        if sc.key in twice:
            issues.append(ConfigIssue(f"{base}.name", f"'{sc.key}' is used twice; give one a name"))
        if sc.steps is None:
            if sc.scenario is None:
                issues.append(ConfigIssue(f"{base}.scenario", "each experiment needs a `scenario` or `steps`"))
                continue
            entry = SCENARIOS.get(sc.scenario)
            if entry is None:
                issues.append(ConfigIssue(f"{base}.scenario", f"unknown scenario '{sc.scenario}'; known: "
                                          f"{', '.join(sorted(SCENARIOS))}"))
                continue
            if entry.step_only:
                issues.append(ConfigIssue(f"{base}.scenario", f"'{sc.scenario}' is only a step between steps"))
                continue
            try:
                entry.check(sc.parameters, sc.selection, cfg)
                checked = _selection_issues(sc.selection, base)
            except ScenarioError as err:
                checked = [ConfigIssue(f"{base}.{err.key}", err.reason)]
            issues += checked
            if not checked:
                issues += _steps_issues(cfg, sc, base)
        else:
            issues += _steps_issues(cfg, sc, base)
        needs = experiment_needs(sc)
        for r in sc.regions or []:
            if r not in regions:
                issues.append(ConfigIssue(f"{base}.regions", f"'{r}' is not one of this stack's regions"))
            for need in needs:
                if r in regions and not data_target_in(cfg, need, r):
                    issues.append(ConfigIssue(f"{base}.regions", f"'{sc.key}' has nothing to act on in '{r}' "
                                                                 f"(no data.{need} there{_secondary_note(cfg, need)})"))
        issues += _stop_on_issues(cfg, sc, base, {r for r in regions if runs_in(cfg, sc, r)})
    issues += _default_stop_on_issues(cfg) + _notification_issues(cfg)
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

"""Game-day report: how fast the SLO alarms saw a chaos experiment, and how fast things healed.

    python -m tools.gameday_report --experiment FILE [--experiment FILE ...]
                                   --alarm-history FILE [--alarm-history FILE ...]
                                   [--alarms NAME [NAME ...]] [--json OUT]

Inputs are the JSON the AWS CLI prints (``--output json``):

* ``--experiment``: ``aws fis get-experiment --id EXP...`` (GetExperiment output,
  ``{"experiment": {...}}``), one experiment per file; repeat the option to report several
  experiments against the same alarm history, each on its own.
* ``--alarm-history``: ``aws cloudwatch describe-alarm-history --start-date ... --end-date ...``
  (DescribeAlarmHistory output, ``{"AlarmHistoryItems": [...], "NextToken"?}``). A file holds
  either one page or a JSON list of pages (e.g. ``jq -s . page*.json``); the option may be
  repeated; items present twice are counted once. The CLI joins the pages itself unless told
  ``--max-items``/``--no-paginate``: when every page given carries a ``NextToken`` the history
  is incomplete and the report says so (it still reports what it has).

Timestamps are accepted as the CLI prints them: ISO-8601 with a time zone -- CLI v2's default
(``cli_timestamp_format = iso8601``: ``2026-11-26T10:00:00.123000+00:00``, or a local offset
such as ``+09:00`` for services whose wire format is epoch seconds) and the ``Z`` form of the
query-protocol wire value (``2026-11-26T10:03:12.345Z``) -- and epoch seconds (CLI v1's
``wire`` format for FIS, a JSON number). A timestamp without a time zone is refused.

Alarms: by default every alarm in the history whose name contains ``-slo-`` (the platform's
SLO alarms are ``<env>-<code>-slo-<name>``, components/slo.py); ``--alarms`` names them
exactly instead. Only ``StateUpdate`` items count (``ConfigurationUpdate``, ``Action`` and
the per-contributor ``AlarmContributor*`` items are ignored); the state comes from
``HistoryData`` (a JSON string: ``{"oldState": {"stateValue": ...}, "newState": {...}}``).

Figures, per experiment (seconds, ``null`` when it did not happen). Let START and END be the
experiment's ``startTime`` and ``endTime``, FIRST ACTION the earliest action ``startTime``,
and ACTIONS END the latest ``endTime`` of the started actions, never after END (if a started
action has none, END; if the experiment has no END either, the actions are still running). An
alarm goes *into ALARM* when a StateUpdate has newState ALARM and oldState not ALARM (items are
sorted by time, whatever order the API returned them in). Only state changes from START to END
(inclusive) count as into-ALARM changes -- an alarm already in ALARM at START does not count
until it has been out of ALARM and comes back; an alarm that goes into ALARM only after END is
not counted (a note names it: that alarm is slower than the experiment); changes after END
count only as the returns to OK the two recovery figures measure. The *counted alarms* are
those that went into ALARM between START and END; each counts with its first such change.

* detectionSeconds: FIRST ACTION -> the first counted alarm's into-ALARM. Null when no alarm
  went into ALARM or no action started. Negative (with a note) when an alarm went into ALARM
  after START but before any action started: it was not the fault's doing.
* propagationSeconds: the first -> the last counted alarm's (first) into-ALARM. Null with
  fewer than two counted alarms (nothing propagated).
* selfHealingSeconds: the first counted alarm's into-ALARM -> that alarm's next OK, when that
  OK is before ACTIONS END (strictly) -- the system healed while the fault was still there.
  Null when it returned to OK later, never, or no action started. INSUFFICIENT_DATA is not OK.
  Ties (two alarms into ALARM at the same instant) go to the alphabetically first name.
* partialRecoverySeconds / fullRecoverySeconds: over the counted alarms still in ALARM at END
  (state after their last change at or before END), END -> the first / the last of them to
  return to OK after END. Null when none was in ALARM at END (nothing left to recover: see
  ``alarmsInAlarmAtEnd``), when the experiment has no END (still running), and -- full only --
  when any of them never returns to OK within the history (partial: none returns).

An experiment that ended ``stopped`` is reported with the stop-condition alarms
(``stopConditions`` of source ``aws:cloudwatch:alarm``) that went into ALARM between START and
END, whatever the ``--alarms`` filter; if none did, it was stopped by hand (StopExperiment).
Its actions end when it stops, so self-healing is measured against that.

Output: markdown on stdout (per experiment: its times, a table of the five figures with what
each was measured between or why it is null, and the alarms with their state changes); with
``--json OUT`` also ``{"alarmFilter", "history", "warnings", "experiments": [{"id",
"experimentTemplateId", "status", "detectionSeconds", "propagationSeconds",
"selfHealingSeconds", "partialRecoverySeconds", "fullRecoverySeconds", "explanations",
"alarms", "alarmsInAlarmAtEnd", "stoppedBy", "notes", ...}]}``.

Bad input (missing file, not JSON, wrong shape, an experiment without a startTime, a
timestamp that is not one) ends with one message naming the file and the reason, exit code 2.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

from tools.cli import Parser, quiet_on_closed_pipe, read_json, write_json

SLO_MARKER = "-slo-"
STATE_UPDATE = "StateUpdate"
# CloudWatch StateValue enum (botocore cloudwatch 2010-08-01 service-2.json, 1.44.8, 2026-11-26).
STATE_VALUES = ("OK", "ALARM", "INSUFFICIENT_DATA")
# FIS ExperimentStopCondition.source for an alarm (FIS user guide, "Stop conditions").
ALARM_STOP_SOURCE = "aws:cloudwatch:alarm"
FIGURES = ("detectionSeconds", "propagationSeconds", "selfHealingSeconds", "partialRecoverySeconds",
           "fullRecoverySeconds")
FIGURE_LABELS = {"detectionSeconds": "Detection", "propagationSeconds": "Propagation",
                 "selfHealingSeconds": "Self-healing", "partialRecoverySeconds": "Partial recovery",
                 "fullRecoverySeconds": "Full recovery"}


_EPOCH = re.compile(r"\d+(\.\d+)?")


class ReportError(Exception):
    """Input the report cannot use; the CLI prints it and exits 2."""


# ------------------------------------------------------------------ input

def _load_json(path: str | Path, what: str) -> Any:
    return read_json(path, what, ReportError)


def parse_time(value: Any) -> _dt.datetime:
    """An AWS CLI timestamp as an aware datetime; ValueError with the reason otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, str) and _EPOCH.fullmatch(value):
        value = float(value)
    if isinstance(value, (int, float)):
        try:
            return _dt.datetime.fromtimestamp(value, _dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"epoch seconds out of range: {value!r}") from None
    if not isinstance(value, str):
        raise ValueError(f"not a timestamp: {value!r}")
    try:
        t = _dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO-8601 timestamp or epoch seconds: {value!r}") from None
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return t


def iso(t: Optional[_dt.datetime]) -> Optional[str]:
    if t is None:
        return None
    return t.astimezone(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _seconds(a: _dt.datetime, b: _dt.datetime) -> float:
    return round((b - a).total_seconds(), 3)


def _num(seconds: float) -> str:
    """Seconds to the millisecond, without trailing zeros."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Action:
    name: str
    action_id: str
    status: str
    start: Optional[_dt.datetime]
    end: Optional[_dt.datetime]


@dataclass(frozen=True)
class Experiment:
    source: str
    id: str
    template: Optional[str]
    status: str
    reason: Optional[str]
    start: _dt.datetime
    end: Optional[_dt.datetime]
    actions: tuple[Action, ...]
    stop_alarms: tuple[str, ...]  # alarm names of the alarm stop conditions


@dataclass(frozen=True)
class Change:
    """One StateUpdate of one alarm."""
    alarm: str
    alarm_type: Optional[str]
    time: _dt.datetime
    old: Optional[str]
    new: str

    @property
    def into_alarm(self) -> bool:
        return self.new == "ALARM" and self.old != "ALARM"


@dataclass
class History:
    changes: list[Change] = field(default_factory=list)
    files: int = 0
    pages: int = 0
    items: int = 0
    duplicates: int = 0
    truncated: bool = False


def _time_field(obj: dict, key: str, where: str, fail) -> Optional[_dt.datetime]:
    if obj.get(key) is None:
        return None
    try:
        return parse_time(obj[key])
    except ValueError as exc:
        fail(f"{where}.{key}: {exc}")
    return None  # unreachable: fail raises


def load_experiment(path: str | Path) -> Experiment:
    """One GetExperiment output (``{"experiment": {...}}``)."""
    what = f"experiment {path}"

    def fail(reason: str):
        raise ReportError(f"{what}: {reason}")

    data = _load_json(path, "experiment")
    if not isinstance(data, dict) or not isinstance(data.get("experiment"), dict):
        fail("not `aws fis get-experiment` output (expected an object with an 'experiment' object)")
    exp = data["experiment"]
    if not isinstance(exp.get("id"), str) or not exp["id"]:
        fail("experiment has no id")
    state = exp.get("state") or {}
    if not isinstance(state, dict):
        fail("experiment.state is not an object")
    status = state.get("status") if isinstance(state.get("status"), str) else "unknown"
    start = _time_field(exp, "startTime", "experiment", fail)
    if start is None:
        fail(f"experiment {exp['id']} has no startTime (status {status}: it never started, nothing to report)")
    end = _time_field(exp, "endTime", "experiment", fail)
    if end is not None and end < start:
        fail(f"experiment {exp['id']} ends ({iso(end)}) before it starts ({iso(start)})")
    raw_actions = exp.get("actions") or {}
    if not isinstance(raw_actions, dict):
        fail("experiment.actions is not an object of actions by name")
    actions = []
    for name, a in sorted(raw_actions.items()):
        if not isinstance(a, dict):
            fail(f"experiment.actions.{name} is not an object")
        a_state = a.get("state") if isinstance(a.get("state"), dict) else {}
        actions.append(Action(name=name, action_id=str(a.get("actionId") or "?"),
                              status=str(a_state.get("status") or "unknown"),
                              start=_time_field(a, "startTime", f"experiment.actions.{name}", fail),
                              end=_time_field(a, "endTime", f"experiment.actions.{name}", fail)))
    stops = exp.get("stopConditions") or []
    if not isinstance(stops, list) or not all(isinstance(s, dict) for s in stops):
        fail("experiment.stopConditions is not a list of objects")
    stop_alarms = tuple(str(s["value"]).split(":alarm:", 1)[-1] for s in stops
                        if s.get("source") == ALARM_STOP_SOURCE and s.get("value"))
    template = exp.get("experimentTemplateId")
    return Experiment(source=str(path), id=exp["id"], template=template if isinstance(template, str) else None,
                      status=status, reason=state.get("reason") if isinstance(state.get("reason"), str) else None,
                      start=start, end=end, actions=tuple(actions), stop_alarms=stop_alarms)


def _pages(data: Any, what: str) -> list[dict]:
    pages = data if isinstance(data, list) else [data]
    if not pages:
        raise ReportError(f"{what}: an empty list (expected a DescribeAlarmHistory page or a list of pages)")
    for i, page in enumerate(pages):
        if not isinstance(page, dict) or not isinstance(page.get("AlarmHistoryItems"), list):
            where = f"page {i}" if isinstance(data, list) else "the document"
            raise ReportError(f"{what}: {where} is not `aws cloudwatch describe-alarm-history` output "
                              "(expected an object with an 'AlarmHistoryItems' list, or a list of them)")
    return pages


def _state(history_data: dict, key: str) -> Optional[str]:
    s = history_data.get(key)
    return s.get("stateValue") if isinstance(s, dict) else None


def load_history(paths: Iterable[str | Path]) -> History:
    """StateUpdate changes of every alarm in the given DescribeAlarmHistory outputs, by time."""
    h = History()
    seen: set[tuple] = set()
    without_token = 0
    for path in paths:
        what = f"alarm history {path}"
        pages = _pages(_load_json(path, "alarm history"), what)
        h.files += 1
        h.pages += len(pages)
        for p, page in enumerate(pages):
            if not page.get("NextToken"):
                without_token += 1
            for i, item in enumerate(page["AlarmHistoryItems"]):
                where = f"{what}: " + (f"page {p} " if len(pages) > 1 else "") + f"item {i}"
                if not isinstance(item, dict):
                    raise ReportError(f"{where} is not an object")
                h.items += 1
                if item.get("HistoryItemType") != STATE_UPDATE:
                    continue
                key = (item.get("AlarmName"), str(item.get("Timestamp")), item.get("HistoryData"))
                if key in seen:
                    h.duplicates += 1
                    continue
                seen.add(key)
                h.changes.append(_change(item, where))
    h.truncated = h.pages > 0 and without_token == 0
    h.changes.sort(key=lambda c: (c.time, c.alarm))
    return h


def _change(item: dict, where: str) -> Change:
    name = item.get("AlarmName")
    if not isinstance(name, str) or not name:
        raise ReportError(f"{where}: StateUpdate without an AlarmName")
    where = f"{where} ({name})"
    if "Timestamp" not in item:
        raise ReportError(f"{where}: no Timestamp")
    try:
        t = parse_time(item["Timestamp"])
    except ValueError as exc:
        raise ReportError(f"{where}: Timestamp: {exc}") from None
    raw = item.get("HistoryData")
    if not isinstance(raw, str):
        raise ReportError(f"{where}: HistoryData is not a string (the CLI prints it as a JSON string)")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ReportError(f"{where}: HistoryData is not JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ReportError(f"{where}: HistoryData is not a JSON object")
    new, old = _state(data, "newState"), _state(data, "oldState")
    if new not in STATE_VALUES:
        raise ReportError(f"{where}: HistoryData has no newState.stateValue in {'/'.join(STATE_VALUES)}")
    return Change(alarm=name, alarm_type=item.get("AlarmType"), time=t,
                  old=old if old in STATE_VALUES else None, new=new)


# ------------------------------------------------------------------ analysis

def _alarm_view(name: str, changes: list[Change], exp: Experiment) -> dict:
    """One alarm around one experiment: its state at START and END, its counted into-ALARM, its
    return to OK after END, and the changes that matter (START to END, then to the return)."""
    before = [c for c in changes if c.time < exp.start]
    after_start = [c for c in changes if c.time >= exp.start]
    if before:
        at_start = before[-1].new
    elif after_start:
        at_start = after_start[0].old
    else:
        at_start = None
    in_window = [c for c in after_start if exp.end is None or c.time <= exp.end]
    into = next((c.time for c in in_window if c.into_alarm), None)
    at_end = None
    recovered = None
    if exp.end is not None:
        upto_end = [c for c in changes if c.time <= exp.end]
        at_end = upto_end[-1].new if upto_end else at_start
        if at_end == "ALARM":
            recovered = next((c.time for c in changes if c.time > exp.end and c.new == "OK"), None)
    shown_until = recovered if recovered is not None else exp.end
    shown = [c for c in after_start if shown_until is None or c.time <= shown_until]
    return {
        "name": name,
        "alarmType": changes[0].alarm_type,
        "stateAtStart": at_start,
        "stateAtEnd": at_end,
        "counted": into is not None,
        "intoAlarm": iso(into),
        "recoveredAt": iso(recovered),
        "transitions": [{"time": iso(c.time), "from": c.old, "to": c.new} for c in shown],
        # for the figures, not serialised
        "_into": into, "_recovered": recovered, "_changes": changes,
    }


def analyse(exp: Experiment, history: History, selected) -> dict:
    """The five figures of one experiment, with what each was measured between (or why null)."""
    by_alarm: dict[str, list[Change]] = {}
    for c in history.changes:
        by_alarm.setdefault(c.alarm, []).append(c)
    views = [_alarm_view(n, cs, exp) for n, cs in sorted(by_alarm.items()) if selected(n)]
    relevant = [v for v in views if v["transitions"] or v["stateAtStart"] == "ALARM"]
    counted = sorted((v for v in views if v["counted"]), key=lambda v: (v["_into"], v["name"]))
    notes: list[str] = []
    why: dict[str, str] = {}
    fig: dict[str, Optional[float]] = dict.fromkeys(FIGURES)

    started = [a for a in exp.actions if a.start is not None]
    first_action = min(started, key=lambda a: (a.start, a.name)) if started else None
    ends = [a.end for a in started]
    if started and all(e is not None for e in ends):
        actions_end = max(ends)
        if exp.end is not None:
            actions_end = min(actions_end, exp.end)
    else:
        actions_end = exp.end if started else None
    if not started:
        notes.append("No action started (none has a startTime): no fault was injected.")

    for v in views:
        if v["stateAtStart"] == "ALARM" and v["counted"] is False:
            notes.append(f"`{v['name']}` was already in ALARM at the start and did not go into ALARM again "
                         "before the end: not counted.")
        elif v["stateAtStart"] == "ALARM":
            notes.append(f"`{v['name']}` was already in ALARM at the start; it counts from its return into "
                         f"ALARM at {v['intoAlarm']}.")

    window = "between the start and the end" if exp.end is not None else "since the start"
    first = counted[0] if counted else None
    # detection
    if first is None:
        why["detectionSeconds"] = f"no selected alarm went into ALARM {window}"
        late = [(c.time, n) for n, cs in by_alarm.items() if selected(n) and exp.end is not None
                for c in cs if c.time > exp.end and c.into_alarm]
        if late:
            t, n = min(late)
            notes.append(f"`{n}` went into ALARM at {iso(t)}, {_num(_seconds(exp.end, t))} s after the end: not "
                         "counted (after the end); an alarm slower than the experiment cannot detect it.")
    elif first_action is None:
        why["detectionSeconds"] = "no action started"
    else:
        fig["detectionSeconds"] = _seconds(first_action.start, first["_into"])
        why["detectionSeconds"] = (f"first action start {iso(first_action.start)} (`{first_action.name}`, "
                                   f"{first_action.action_id}) → `{first['name']}` into ALARM {first['intoAlarm']}")
        if fig["detectionSeconds"] < 0:
            notes.append(f"`{first['name']}` went into ALARM {_num(-fig['detectionSeconds'])} s before the first action "
                         "started: not the fault's doing (detection is negative).")
    # propagation
    if len(counted) < 2:
        why["propagationSeconds"] = (f"only `{first['name']}` went into ALARM" if first
                                     else f"no selected alarm went into ALARM {window}")
    else:
        last = max(counted, key=lambda v: (v["_into"], v["name"]))
        fig["propagationSeconds"] = _seconds(first["_into"], last["_into"])
        why["propagationSeconds"] = (f"`{first['name']}` into ALARM {first['intoAlarm']} → `{last['name']}` "
                                     f"into ALARM {last['intoAlarm']} ({len(counted)} alarms)")
    # self-healing
    if first is None:
        why["selfHealingSeconds"] = f"no selected alarm went into ALARM {window}"
    elif first_action is None:
        why["selfHealingSeconds"] = "no action started"
    else:
        ok = next((c.time for c in first["_changes"] if c.time > first["_into"] and c.new == "OK"), None)
        running = f"before the actions ended ({iso(actions_end)})" if actions_end else "(actions still running)"
        if ok is None:
            why["selfHealingSeconds"] = f"`{first['name']}` never returned to OK in the history"
        elif actions_end is not None and ok >= actions_end:
            why["selfHealingSeconds"] = (f"`{first['name']}` returned to OK at {iso(ok)}, not before the actions "
                                         f"ended ({iso(actions_end)})")
        else:
            fig["selfHealingSeconds"] = _seconds(first["_into"], ok)
            why["selfHealingSeconds"] = (f"`{first['name']}` into ALARM {first['intoAlarm']} → OK {iso(ok)}, "
                                         f"{running}")
    # recovery
    in_alarm_at_end = [v for v in counted if v["stateAtEnd"] == "ALARM"]
    if exp.end is None:
        why["partialRecoverySeconds"] = why["fullRecoverySeconds"] = "the experiment has not ended (no endTime)"
    elif not in_alarm_at_end:
        why["partialRecoverySeconds"] = why["fullRecoverySeconds"] = (
            "no counted alarm was in ALARM at the end" if counted else f"no selected alarm went into ALARM {window}")
    else:
        back = sorted((v for v in in_alarm_at_end if v["_recovered"] is not None),
                      key=lambda v: (v["_recovered"], v["name"]))
        never = [v["name"] for v in in_alarm_at_end if v["_recovered"] is None]
        if back:
            fig["partialRecoverySeconds"] = _seconds(exp.end, back[0]["_recovered"])
            why["partialRecoverySeconds"] = f"end {iso(exp.end)} → `{back[0]['name']}` OK {back[0]['recoveredAt']}"
        else:
            why["partialRecoverySeconds"] = "none of the alarms in ALARM at the end returned to OK in the history"
        if never:
            why["fullRecoverySeconds"] = ("still in ALARM at the end of the history: "
                                          + ", ".join(f"`{n}`" for n in never))
        else:
            fig["fullRecoverySeconds"] = _seconds(exp.end, back[-1]["_recovered"])
            why["fullRecoverySeconds"] = (f"end {iso(exp.end)} → `{back[-1]['name']}` OK {back[-1]['recoveredAt']}"
                                          + (f" ({len(back)} alarms)" if len(back) > 1 else ""))

    stopped_by = []
    if exp.status == "stopped":
        for name in exp.stop_alarms:
            t = next((c.time for c in by_alarm.get(name, ()) if c.time >= exp.start and c.into_alarm
                      and (exp.end is None or c.time <= exp.end)), None)
            if t is not None:
                stopped_by.append({"alarm": name, "intoAlarm": iso(t)})
        if stopped_by:
            notes.append("Stopped by its stop condition: " + ", ".join(
                f"`{s['alarm']}` into ALARM {s['intoAlarm']}" for s in stopped_by) + ".")
        else:
            notes.append("Stopped, but no stop-condition alarm went into ALARM between the start and the end in "
                         "the history: stopped by hand (StopExperiment)?")
    quiet = [v["name"] for v in views if v not in relevant]
    if quiet:
        notes.append(f"{len(quiet)} other selected alarm(s) had no state change between the start and the end "
                     "and were not in ALARM: " + ", ".join(f"`{n}`" for n in quiet) + ".")

    return {
        "id": exp.id,
        "experimentTemplateId": exp.template,
        "status": exp.status,
        "statusReason": exp.reason,
        "source": exp.source,
        "startTime": iso(exp.start),
        "endTime": iso(exp.end),
        "firstActionStartTime": iso(first_action.start) if first_action else None,
        "firstAction": first_action.name if first_action else None,
        "actionsEndTime": iso(actions_end),
        "actions": [{"name": a.name, "actionId": a.action_id, "status": a.status, "startTime": iso(a.start),
                     "endTime": iso(a.end)} for a in exp.actions],
        **fig,
        "explanations": why,
        "alarms": [{k: val for k, val in v.items() if not k.startswith("_")} for v in relevant],
        "alarmsInAlarmAtEnd": [v["name"] for v in in_alarm_at_end],
        "stopConditionAlarms": list(exp.stop_alarms),
        "stoppedBy": stopped_by,
        "notes": notes,
    }


def report(experiment_paths: Iterable[str | Path], history_paths: Iterable[str | Path],
           alarms: Optional[Iterable[str]] = None) -> dict:
    experiments = [load_experiment(p) for p in experiment_paths]
    history = load_history(history_paths)
    names = sorted(set(alarms)) if alarms else None

    def selected(name: str) -> bool:
        return name in names if names is not None else SLO_MARKER in name

    warnings = []
    if history.truncated:
        warnings.append("The alarm history is incomplete: every page given carries a NextToken (the CLI was "
                        "run with --max-items or --no-paginate). Figures may miss later state changes; pass "
                        "every page.")
    present = {c.alarm for c in history.changes}
    if names is not None:
        missing = [n for n in names if n not in present]
        if missing:
            warnings.append("No StateUpdate in the history for: " + ", ".join(f"`{n}`" for n in missing) + ".")
    elif not any(selected(n) for n in present):
        warnings.append(f"No alarm in the history has `{SLO_MARKER}` in its name.")
    return {
        "alarmFilter": {"names": names} if names is not None else {"nameContains": SLO_MARKER},
        "history": {"files": history.files, "pages": history.pages, "items": history.items,
                    "stateUpdates": len(history.changes), "duplicatesIgnored": history.duplicates,
                    "truncated": history.truncated},
        "warnings": warnings,
        "experiments": [analyse(e, history, selected) for e in experiments],
    }


# ------------------------------------------------------------------ output

def _fmt(seconds: Optional[float]) -> str:
    if seconds is None:
        return "null"
    if abs(seconds) < 60:
        return _num(seconds)
    m, s = divmod(round(abs(seconds)), 60)
    return f"{_num(seconds)} ({'-' if seconds < 0 else ''}{m} min {s} s)"


def _cell(text: Any) -> str:
    return str(text if text is not None else "—").replace("|", "\\|").replace("\n", " ")


def render(result: dict) -> str:
    out = ["# Game-day report", ""]
    f = result["alarmFilter"]
    out.append("Alarms: " + (", ".join(f"`{n}`" for n in f["names"]) if "names" in f else
                             f"every alarm in the history whose name contains `{f['nameContains']}`")
               + " (StateUpdate items only).")
    h = result["history"]
    out.append(f"History: {h['files']} file(s), {h['pages']} page(s), {h['items']} item(s), "
               f"{h['stateUpdates']} state update(s)"
               + (f", {h['duplicatesIgnored']} duplicate(s) ignored" if h["duplicatesIgnored"] else "") + ".")
    for w in result["warnings"]:
        out += ["", f"> **Warning:** {w}"]
    for e in result["experiments"]:
        out += ["", f"## Experiment `{e['id']}` (template `{e['experimentTemplateId'] or '?'}`): {e['status']}", ""]
        out += ["| | |", "|---|---|"]
        if e["statusReason"]:
            out.append(f"| Status reason | {_cell(e['statusReason'])} |")
        out.append(f"| Started | {e['startTime']} |")
        if e["firstAction"]:
            first = next(a for a in e["actions"] if a["name"] == e["firstAction"])
            out.append(f"| First action started | {e['firstActionStartTime']} (`{first['name']}`, "
                       f"{first['actionId']}) |")
        out.append(f"| Actions ended | {e['actionsEndTime'] or 'still running'} |")
        out.append(f"| Ended | {e['endTime'] or 'not yet'} |")
        for a in e["actions"]:
            out.append(f"| Action `{a['name']}` | {a['actionId']}, {a['status']}: "
                       f"{a['startTime'] or 'not started'} → {a['endTime'] or '…'} |")
        out += ["", "| Figure | Seconds | Measured / why null |", "|---|---:|---|"]
        for k in FIGURES:
            out.append(f"| {FIGURE_LABELS[k]} | {_fmt(e[k])} | {_cell(e['explanations'][k])} |")
        out += ["", "### Alarms", ""]
        if e["alarms"]:
            out += ["| Alarm | At start | At end | Counted | State changes from the start on |",
                    "|---|---|---|---|---|"]
            for a in e["alarms"]:
                changes = "<br>".join(f"{t['time']} {t['from'] or '?'} → {t['to']}" for t in a["transitions"]) or "—"
                counted = f"into ALARM {a['intoAlarm']}" if a["counted"] else "no"
                out.append(f"| `{a['name']}` | {a['stateAtStart'] or '?'} | {a['stateAtEnd'] or '—'} | {counted} "
                           f"| {changes} |")
        else:
            out.append("No selected alarm changed state from the start on.")
        if e["notes"]:
            out += [""] + [f"- {n}" for n in e["notes"]]
    return "\n".join(out) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    quiet_on_closed_pipe()
    ap = Parser(prog="python -m tools.gameday_report",
                description="Detection, propagation, self-healing and recovery times of FIS experiments "
                            "from their alarm history.")
    ap.add_argument("--experiment", action="append", required=True, metavar="FILE",
                    help="`aws fis get-experiment` output (repeat for several experiments)")
    ap.add_argument("--alarm-history", action="append", required=True, metavar="FILE",
                    help="`aws cloudwatch describe-alarm-history` output: one page or a list of pages "
                         "(repeatable)")
    ap.add_argument("--alarms", nargs="+", metavar="NAME",
                    help="the SLO alarms to count, by exact name (default: every alarm whose name contains "
                         f"'{SLO_MARKER}')")
    ap.add_argument("--json", dest="json_out", metavar="OUT", help="also write the result as JSON here")
    args = ap.parse_args(list(argv) if argv is not None else None)
    try:
        result = report(args.experiment, args.alarm_history, args.alarms)
        if args.json_out:
            write_json(args.json_out, result, ReportError)
    except ReportError as exc:
        print(f"gameday_report: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

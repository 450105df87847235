"""The game-day report: detection, propagation, self-healing, partial and full recovery times of
FIS experiments from `aws fis get-experiment` and `aws cloudwatch describe-alarm-history` output."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.helpers import run_tool
from tools import gameday_report as gd

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "gameday"
T0 = dt.datetime(2026, 11, 26, 10, 0, 0, tzinfo=dt.timezone.utc)
LAT, ERR, CPU = "prod-apne2-slo-web-p99-latency", "prod-apne2-slo-web-5xx-rate", "prod-apne2-slo-cache-cpu"
FIGURES = ["detectionSeconds", "propagationSeconds", "selfHealingSeconds", "partialRecoverySeconds",
           "fullRecoverySeconds"]


# ------------------------------------------------------------------ builders (AWS CLI output shapes)

def stamp(offset: float | None, fmt: str = "v2"):
    """T0 + offset seconds as the AWS CLI prints it: v2 (iso8601, +00:00, microseconds), local (v2
    on a machine in Seoul: +09:00), z (query-protocol wire value, milliseconds, Z), epoch (v1 wire)."""
    if offset is None:
        return None
    t = T0 + dt.timedelta(seconds=offset)
    if fmt == "v2":
        return t.isoformat()
    if fmt == "local":
        return t.astimezone(dt.timezone(dt.timedelta(hours=9))).isoformat()
    if fmt == "z":
        return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if fmt == "epoch":
        return round(t.timestamp(), 3)
    raise ValueError(fmt)


def experiment(tmp_path: Path, start=0.0, end=600.0, actions=(("inject", 2.0, 300.0),), status="completed",
               stop_on=(), fmt="v2", name="exp.json", exp_id="EXPaaaa1111bbbb2222") -> Path:
    exp = {"id": exp_id, "arn": f"arn:aws:fis:ap-northeast-2:123456789012:experiment/{exp_id}",
           "experimentTemplateId": "EXTcccc3333dddd4444", "state": {"status": status},
           "actions": {n: {"actionId": "aws:network:disrupt-connectivity", "parameters": {"duration": "PT5M"},
                           "state": {"status": "completed" if e is not None else "running"},
                           **({"startTime": stamp(s, fmt)} if s is not None else {}),
                           **({"endTime": stamp(e, fmt)} if e is not None else {})}
                       for n, s, e in actions},
           "stopConditions": [{"source": "aws:cloudwatch:alarm",
                               "value": f"arn:aws:cloudwatch:ap-northeast-2:123456789012:alarm:{a}"} for a in stop_on]
           or [{"source": "none"}],
           "creationTime": stamp(start - 2, fmt)}
    if start is not None:
        exp["startTime"] = stamp(start, fmt)
    if end is not None:
        exp["endTime"] = stamp(end, fmt)
    path = tmp_path / name
    path.write_text(json.dumps({"experiment": exp}, indent=4))
    return path


def item(alarm: str, offset: float, old: str, new: str, fmt: str = "z", kind: str = "StateUpdate") -> dict:
    data = {"version": "1.0", "oldState": {"stateValue": old, "stateReason": "r"},
            "newState": {"stateValue": new, "stateReason": "Threshold Crossed: ..."}}
    return {"AlarmName": alarm, "AlarmType": "MetricAlarm", "Timestamp": stamp(offset, fmt), "HistoryItemType": kind,
            "HistorySummary": f"Alarm updated from {old} to {new}", "HistoryData": json.dumps(data)}


def history(tmp_path: Path, changes, fmt="z", name="history.json", extra=()) -> Path:
    """changes: (alarm, offset, old, new); written newest first, as the API returns them."""
    items = [item(a, t, o, n, fmt) for a, t, o, n in changes] + list(extra)
    items.sort(key=lambda i: gd.parse_time(i["Timestamp"]), reverse=True)
    path = tmp_path / name
    path.write_text(json.dumps({"AlarmHistoryItems": items}, indent=4))
    return path


def figures(tmp_path, changes, alarms=None, hist_fmt="z", **exp) -> dict:
    result = gd.report([experiment(tmp_path, **exp)], [history(tmp_path, changes, hist_fmt)], alarms)
    return result["experiments"][0]


def up(alarm, t):
    return (alarm, t, "OK", "ALARM")


def down(alarm, t):
    return (alarm, t, "ALARM", "OK")


# ------------------------------------------------------------------ the shipped fixtures

def test_fixture_az_outage_gives_every_figure(tmp_path, capsys):
    out = tmp_path / "out" / "report.json"
    assert gd.main(["--experiment", str(FIXTURES / "experiment-az-outage.json"),
                    "--alarm-history", str(FIXTURES / "alarm-history-az-outage.json"), "--json", str(out)]) == 0
    e = json.loads(out.read_text())["experiments"][0]
    # first action 10:00:01.507 -> latency into ALARM 10:03:12.345 -> 5xx into ALARM 10:04:02.845;
    # latency back to OK 10:04:30.000 while the node termination still ran (until 10:05:40);
    # end 10:05:41.270 -> 5xx OK (via INSUFFICIENT_DATA) 10:08:11.270 -> latency OK 10:09:41.270
    assert [e[k] for k in FIGURES] == [190.838, 50.5, 77.655, 150.0, 240.0]
    assert e["id"] == "EXP4mQx7Vb2NcR8tLs" and e["experimentTemplateId"] == "EXT9kPz3Wd6HfJ1aYq"
    assert e["status"] == "completed" and e["stoppedBy"] == []
    assert e["alarmsInAlarmAtEnd"] == [LAT, ERR]
    by_name = {a["name"]: a for a in e["alarms"]}
    # cache-cpu was in ALARM from 09:40, before the start: shown, never counted
    assert by_name[CPU]["stateAtStart"] == "ALARM" and by_name[CPU]["counted"] is False
    assert "prod-apne2-api-cpu-high" not in by_name  # not an SLO alarm
    assert by_name[ERR]["transitions"][1] == {"time": "2026-11-26T10:07:11.270Z", "from": "ALARM",
                                              "to": "INSUFFICIENT_DATA"}
    text = capsys.readouterr().out
    assert "| Detection | 190.838 (3 min 11 s) | first action start 2026-11-26T10:00:01.507Z" in text
    assert "| Full recovery | 240 (4 min 0 s) | end 2026-11-26T10:05:41.270Z → `prod-apne2-slo-web-p99-latency`" in text
    assert "`prod-apne2-slo-cache-cpu` was already in ALARM at the start" in text


def test_fixture_stopped_experiment_in_cli_v1_epoch_format_with_two_pages(capsys):
    assert gd.main(["--experiment", str(FIXTURES / "experiment-stopped-v1.json"),
                    "--alarm-history", str(FIXTURES / "alarm-history-pages.json")]) == 0
    result = gd.report([FIXTURES / "experiment-stopped-v1.json"], [FIXTURES / "alarm-history-pages.json"])
    e = result["experiments"][0]
    assert e["status"] == "stopped"
    assert e["stoppedBy"] == [{"alarm": LAT, "intoAlarm": "2026-11-26T11:02:30.118Z"}]
    assert [e[k] for k in FIGURES] == [147.868, None, None, 208.62, 208.62]
    assert e["explanations"]["selfHealingSeconds"].endswith("not before the actions ended (2026-11-26T11:02:31.900Z)")
    assert result["history"]["pages"] == 2 and result["history"]["truncated"] is False
    assert "Stopped by its stop condition: `prod-apne2-slo-web-p99-latency`" in capsys.readouterr().out


def test_fixtures_are_shaped_like_the_botocore_models():
    """Every key the fixtures use is a member of the GetExperiment / DescribeAlarmHistory output
    shapes of the installed botocore, enums included."""
    import botocore.session

    session = botocore.session.get_session()

    def check(value, shape, where):
        if shape.type_name == "structure":
            assert isinstance(value, dict) and set(value) <= set(shape.members), (where, set(value) - set(shape.members))
            for k, v in value.items():
                check(v, shape.members[k], f"{where}.{k}")
        elif shape.type_name == "map":
            for k, v in value.items():
                check(v, shape.value, f"{where}.{k}")
        elif shape.type_name == "list":
            for i, v in enumerate(value):
                check(v, shape.member, f"{where}[{i}]")
        elif shape.type_name == "timestamp":
            gd.parse_time(value)
        elif shape.type_name == "string":
            assert isinstance(value, str), where
            if shape.enum:
                assert value in shape.enum, (where, value)

    fis = session.get_service_model("fis").operation_model("GetExperiment").output_shape
    cw = session.get_service_model("cloudwatch").operation_model("DescribeAlarmHistory").output_shape
    for name in ("experiment-az-outage.json", "experiment-stopped-v1.json"):
        check(json.loads((FIXTURES / name).read_text()), fis, name)
    check(json.loads((FIXTURES / "alarm-history-az-outage.json").read_text()), cw, "history")
    for page in json.loads((FIXTURES / "alarm-history-pages.json").read_text()):
        check(page, cw, "pages")


# ------------------------------------------------------------------ each figure on a crafted timeline

@pytest.mark.parametrize("exp_fmt,hist_fmt", [("v2", "z"), ("v2", "v2"), ("local", "z"), ("epoch", "z"),
                                              ("epoch", "epoch"), ("local", "local")])
def test_both_timestamp_formats_give_the_same_figures(tmp_path, exp_fmt, hist_fmt):
    e = figures(tmp_path, [up(LAT, 60.25), up(ERR, 90.5), down(LAT, 120.0), up(LAT, 200.0),
                           down(ERR, 650.0), down(LAT, 700.125)],
                fmt=exp_fmt, hist_fmt=hist_fmt, actions=(("inject", 2.0, 300.0),), end=600.0)
    assert [e[k] for k in FIGURES] == [58.25, 30.25, 59.75, 50.0, 100.125]


def test_an_alarm_in_alarm_before_the_start_is_not_detection(tmp_path):
    # CPU went into ALARM before the start and stays; LAT fires at +100: detection is LAT's
    e = figures(tmp_path, [up(CPU, -60), up(LAT, 100), down(LAT, 700), down(CPU, 800)])
    assert e["detectionSeconds"] == 98.0
    assert e["propagationSeconds"] is None  # CPU's into-ALARM was before the start
    assert e["alarmsInAlarmAtEnd"] == [LAT]  # CPU is in ALARM at the end but never counted
    assert e["partialRecoverySeconds"] == e["fullRecoverySeconds"] == 100.0
    cpu = next(a for a in e["alarms"] if a["name"] == CPU)
    assert cpu["stateAtStart"] == "ALARM" and not cpu["counted"]


def test_an_alarm_that_was_in_alarm_at_the_start_counts_from_its_return_into_alarm(tmp_path):
    e = figures(tmp_path, [up(CPU, -60), down(CPU, 30), up(CPU, 150), up(LAT, 100)])
    assert e["detectionSeconds"] == 98.0 and e["propagationSeconds"] == 50.0
    assert any("counts from its return into ALARM" in n for n in e["notes"])


def test_an_alarm_to_alarm_update_is_not_an_into_alarm(tmp_path):
    e = figures(tmp_path, [up(CPU, -60), (CPU, 100, "ALARM", "ALARM"), up(LAT, 200)])
    assert e["detectionSeconds"] == 198.0 and e["propagationSeconds"] is None


def test_state_changes_before_the_start_do_not_count(tmp_path):
    e = figures(tmp_path, [up(LAT, -300), down(LAT, -100)])
    assert all(e[k] is None for k in FIGURES)
    assert e["explanations"]["detectionSeconds"] == "no selected alarm went into ALARM between the start and the end"


def test_nothing_fired_gives_five_nulls_with_reasons(tmp_path):
    e = figures(tmp_path, [])
    assert [e[k] for k in FIGURES] == [None] * 5
    assert set(e["explanations"]) == set(FIGURES)


def test_one_alarm_has_no_propagation(tmp_path):
    e = figures(tmp_path, [up(LAT, 100), down(LAT, 650)])
    assert e["propagationSeconds"] is None
    assert e["explanations"]["propagationSeconds"] == f"only `{LAT}` went into ALARM"


def test_propagation_is_first_to_last_alarm_each_counted_once(tmp_path):
    # LAT fires twice; ERR and CPU once: first is LAT at 50, last is CPU at 250
    e = figures(tmp_path, [up(LAT, 50), up(ERR, 120), down(LAT, 130), up(LAT, 140), up(CPU, 250)])
    assert e["propagationSeconds"] == 200.0


@pytest.mark.parametrize("ok_at,expect", [
    (200.0, 100.0),   # back to OK while the action still runs (until 300)
    (299.999, 199.999),
    (300.0, None),    # at the action's end: not "while actions still run"
    (450.0, None),    # after the actions ended, before the experiment ended (600)
    (None, None),     # never
])
def test_self_healing_only_while_actions_still_run(tmp_path, ok_at, expect):
    changes = [up(LAT, 100)] + ([down(LAT, ok_at)] if ok_at is not None else [])
    e = figures(tmp_path, changes, actions=(("inject", 2.0, 300.0),), end=600.0)
    assert e["selfHealingSeconds"] == expect


def test_self_healing_is_measured_on_the_first_alarm_only(tmp_path):
    # ERR heals during the actions, LAT (the first) does not
    e = figures(tmp_path, [up(LAT, 100), up(ERR, 110), down(ERR, 150), down(LAT, 700)])
    assert e["selfHealingSeconds"] is None
    assert e["alarmsInAlarmAtEnd"] == [LAT]


def test_actions_end_is_the_last_action_of_a_sequence(tmp_path):
    acts = (("disrupt", 2.0, 300.0), ("terminate", 301.0, 420.0))
    e = figures(tmp_path, [up(LAT, 100), down(LAT, 350)], actions=acts, end=421.0)
    assert e["actionsEndTime"] == stamp(420.0, "z") and e["selfHealingSeconds"] == 250.0


def test_insufficient_data_is_not_ok(tmp_path):
    e = figures(tmp_path, [up(LAT, 100), (LAT, 200, "ALARM", "INSUFFICIENT_DATA"),
                           (LAT, 250, "INSUFFICIENT_DATA", "OK")])
    assert e["selfHealingSeconds"] == 150.0


def test_partial_and_full_recovery_with_two_alarms(tmp_path):
    e = figures(tmp_path, [up(LAT, 100), up(ERR, 150), down(ERR, 630), down(LAT, 900)], end=600.0)
    assert e["partialRecoverySeconds"] == 30.0 and e["fullRecoverySeconds"] == 300.0
    assert e["explanations"]["partialRecoverySeconds"] == f"end {stamp(600, 'z')} → `{ERR}` OK {stamp(630, 'z')}"


def test_an_alarm_that_never_returns_leaves_full_recovery_null(tmp_path):
    e = figures(tmp_path, [up(LAT, 100), up(ERR, 150), down(ERR, 630)], end=600.0)
    assert e["partialRecoverySeconds"] == 30.0 and e["fullRecoverySeconds"] is None
    assert e["explanations"]["fullRecoverySeconds"] == f"still in ALARM at the end of the history: `{LAT}`"
    e = figures(tmp_path, [up(LAT, 100)], end=600.0)
    assert e["partialRecoverySeconds"] is None and e["fullRecoverySeconds"] is None


def test_recovery_counts_only_alarms_still_in_alarm_at_the_end(tmp_path):
    # LAT healed during the experiment; only ERR is left at the end
    e = figures(tmp_path, [up(LAT, 100), down(LAT, 200), up(ERR, 150), down(ERR, 660)], end=600.0)
    assert e["alarmsInAlarmAtEnd"] == [ERR]
    assert e["partialRecoverySeconds"] == e["fullRecoverySeconds"] == 60.0
    # nothing left at the end: nothing to recover
    e = figures(tmp_path, [up(LAT, 100), down(LAT, 200)], end=600.0)
    assert e["alarmsInAlarmAtEnd"] == [] and e["partialRecoverySeconds"] is None
    assert e["explanations"]["fullRecoverySeconds"] == "no counted alarm was in ALARM at the end"


def test_an_alarm_after_the_end_is_not_detection_but_is_noted(tmp_path):
    e = figures(tmp_path, [up(LAT, 630), down(LAT, 700)], end=600.0)
    assert e["detectionSeconds"] is None
    assert any("30 s after the end: not counted" in n for n in e["notes"])


def test_an_alarm_before_the_first_action_gives_negative_detection_with_a_note(tmp_path):
    e = figures(tmp_path, [up(LAT, 5)], actions=(("inject", 20.0, 300.0),))
    assert e["detectionSeconds"] == -15.0
    assert any("before the first action started" in n for n in e["notes"])


def test_no_action_started_means_no_detection_and_no_self_healing(tmp_path):
    e = figures(tmp_path, [up(LAT, 100), down(LAT, 200)], actions=(("inject", None, None),), status="failed")
    assert e["detectionSeconds"] is None and e["selfHealingSeconds"] is None
    assert e["explanations"]["detectionSeconds"] == "no action started"


def test_a_running_experiment_has_no_recovery_yet(tmp_path):
    e = figures(tmp_path, [up(LAT, 100), down(LAT, 900)], end=None, status="running",
                actions=(("inject", 2.0, None),))
    assert e["selfHealingSeconds"] == 800.0  # actions still running
    assert e["partialRecoverySeconds"] is None and e["fullRecoverySeconds"] is None
    assert e["explanations"]["partialRecoverySeconds"] == "the experiment has not ended (no endTime)"


def test_stopped_by_hand_is_said(tmp_path):
    e = figures(tmp_path, [], status="stopped", stop_on=(LAT,))
    assert e["stoppedBy"] == [] and any("stopped by hand" in n for n in e["notes"])


def test_only_state_updates_count(tmp_path):
    action = item(LAT, 100, "OK", "ALARM", kind="Action")
    config = item(LAT, 110, "OK", "ALARM", kind="ConfigurationUpdate")
    result = gd.report([experiment(tmp_path)], [history(tmp_path, [], extra=[action, config])])
    assert result["experiments"][0]["detectionSeconds"] is None
    assert result["history"]["items"] == 2 and result["history"]["stateUpdates"] == 0


def test_default_filter_is_slo_alarms_and_alarms_names_them_exactly(tmp_path):
    changes = [up("prod-apne2-api-cpu-high", 50), up(LAT, 100), up(ERR, 130)]
    assert figures(tmp_path, changes)["detectionSeconds"] == 98.0
    e = figures(tmp_path, changes, alarms=["prod-apne2-api-cpu-high", ERR])
    assert e["detectionSeconds"] == 48.0 and e["propagationSeconds"] == 80.0
    assert {a["name"] for a in e["alarms"]} == {"prod-apne2-api-cpu-high", ERR}


def test_several_experiments_over_one_history_each_get_their_own_window(tmp_path):
    first = experiment(tmp_path, start=0, end=600, name="a.json", exp_id="EXPfirst")
    second = experiment(tmp_path, start=3600, end=4200, actions=(("inject", 3610.0, 3900.0),), name="b.json",
                        exp_id="EXPsecond")
    hist = history(tmp_path, [up(LAT, 100), down(LAT, 700), up(ERR, 3700), down(ERR, 4260)])
    a, b = gd.report([first, second], [hist])["experiments"]
    assert (a["id"], a["detectionSeconds"], a["fullRecoverySeconds"], a["propagationSeconds"]) == \
        ("EXPfirst", 98.0, 100.0, None)
    assert (b["id"], b["detectionSeconds"], b["fullRecoverySeconds"], b["propagationSeconds"]) == \
        ("EXPsecond", 90.0, 60.0, None)


def test_pages_duplicates_and_a_truncated_history(tmp_path):
    page = json.loads(history(tmp_path, [up(LAT, 100), down(LAT, 700)]).read_text())
    both = tmp_path / "both.json"
    both.write_text(json.dumps([dict(page, NextToken="abc"), page]))  # the same items twice
    result = gd.report([experiment(tmp_path)], [both])
    assert result["history"] == {"files": 1, "pages": 2, "items": 4, "stateUpdates": 2, "duplicatesIgnored": 2,
                                 "truncated": False}
    assert result["experiments"][0]["fullRecoverySeconds"] == 100.0
    one = tmp_path / "one.json"
    one.write_text(json.dumps(dict(page, NextToken="abc")))
    result = gd.report([experiment(tmp_path)], [one])
    assert result["history"]["truncated"] and "incomplete" in result["warnings"][0]


def test_json_document_has_the_issue_keys(tmp_path):
    out = tmp_path / "r.json"
    assert gd.main(["--experiment", str(experiment(tmp_path)), "--alarm-history",
                    str(history(tmp_path, [up(LAT, 100)])), "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert set(doc) == {"alarmFilter", "history", "warnings", "experiments"}
    assert doc["alarmFilter"] == {"nameContains": "-slo-"}
    e = doc["experiments"][0]
    assert set(FIGURES) | {"id", "experimentTemplateId", "status", "alarms"} <= set(e)
    assert e["alarms"][0]["name"] == LAT and e["alarms"][0]["transitions"][0]["to"] == "ALARM"


# ------------------------------------------------------------------ the CLI on bad input

def _bad_history(tmp_path, content):
    path = tmp_path / "h.json"
    path.write_text(content)
    return ["--experiment", FIXTURES / "experiment-az-outage.json", "--alarm-history", path]


def _bad_experiment(tmp_path, content):
    path = tmp_path / "e.json"
    path.write_text(content)
    return ["--experiment", path, "--alarm-history", FIXTURES / "alarm-history-az-outage.json"]


def _good_item(**over):
    return dict(item(LAT, 100, "OK", "ALARM"), **over)


@pytest.mark.parametrize("args,expect", [
    (lambda p: ["--experiment", p / "missing.json", "--alarm-history", FIXTURES / "alarm-history-pages.json"],
     "experiment {p}/missing.json: no such file"),
    (lambda p: _bad_experiment(p, "{not json"), "experiment {p}/e.json: not valid JSON"),
    (lambda p: _bad_experiment(p, '{"id": "EXP1"}'), "experiment {p}/e.json: not `aws fis get-experiment` output"),
    (lambda p: _bad_experiment(p, '{"experiment": {"id": "EXP1", "state": {"status": "pending"}}}'),
     "experiment {p}/e.json: experiment EXP1 has no startTime (status pending"),
    (lambda p: _bad_experiment(p, '{"experiment": {"id": "EXP1", "startTime": "2026-11-26T10:00:00"}}'),
     "experiment {p}/e.json: experiment.startTime: timestamp without a time zone"),
    (lambda p: _bad_experiment(p, '{"experiment": {"id": "EXP1", "startTime": "yesterday"}}'),
     "experiment.startTime: not an ISO-8601 timestamp or epoch seconds"),
    (lambda p: _bad_history(p, "[]"), "alarm history {p}/h.json: an empty list"),
    (lambda p: _bad_history(p, '{"MetricAlarms": []}'),
     "alarm history {p}/h.json: the document is not `aws cloudwatch describe-alarm-history` output"),
    (lambda p: _bad_history(p, json.dumps({"AlarmHistoryItems": [_good_item(HistoryData="{oops")]})),
     f"alarm history {{p}}/h.json: item 0 ({LAT}): HistoryData is not JSON"),
    (lambda p: _bad_history(p, json.dumps({"AlarmHistoryItems": [_good_item(HistoryData='{"newState": {}}')]})),
     "HistoryData has no newState.stateValue in OK/ALARM/INSUFFICIENT_DATA"),
    (lambda p: _bad_history(p, json.dumps({"AlarmHistoryItems": [_good_item(Timestamp="2026-11-26 10:00")]})),
     "Timestamp: timestamp without a time zone"),
])
def test_bad_input_exits_2_with_one_message_naming_the_file(tmp_path, args, expect):
    proc = run_tool("tools.gameday_report", *args(tmp_path))
    assert proc.returncode == 2, proc.stdout
    assert proc.stderr.startswith("gameday_report: ") and expect.format(p=tmp_path) in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


def test_missing_option_and_unwritable_json_exit_2(tmp_path):
    proc = run_tool("tools.gameday_report", "--experiment", FIXTURES / "experiment-az-outage.json")
    assert proc.returncode == 2 and "--alarm-history" in proc.stderr and "Traceback" not in proc.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    proc = run_tool("tools.gameday_report", "--experiment", FIXTURES / "experiment-az-outage.json",
                    "--alarm-history", FIXTURES / "alarm-history-az-outage.json", "--json", blocker / "r.json")
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr


def test_the_cli_runs_end_to_end():
    proc = run_tool("tools.gameday_report", "--experiment", FIXTURES / "experiment-az-outage.json",
                    "--alarm-history", FIXTURES / "alarm-history-az-outage.json", "--alarms", LAT)
    assert proc.returncode == 0, proc.stderr
    assert "Alarms: `prod-apne2-slo-web-p99-latency` (StateUpdate items only)." in proc.stdout
    assert "| Propagation | null | only `prod-apne2-slo-web-p99-latency` went into ALARM |" in proc.stdout

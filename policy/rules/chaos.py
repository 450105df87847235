"""Chaos: every FIS experiment stops on a CloudWatch alarm that exists in the stack, and logs."""

from .base import as_list, is_map, resource_rule, stack_rule

FIS = "aws:fis/experimentTemplate:ExperimentTemplate"


def _stop_and_log(t, p):
    stops = [s for s in as_list(p.get("stopConditions")) if is_map(s)]
    if not any(s.get("source") == "aws:cloudwatch:alarm" and s.get("value") for s in stops):
        yield "the experiment has no CloudWatch alarm stop condition"
    logs = p.get("logConfiguration") or {}
    if not (logs.get("cloudwatchLogsConfiguration") or logs.get("s3Configuration")):
        yield "the experiment does not log its runs"


def _alarms_exist(resources):
    alarms = [r for r in resources if r.resource_type == "aws:cloudwatch/metricAlarm:MetricAlarm"]
    names = {r.props.get("name") for r in alarms}
    for t in (r for r in resources if r.resource_type == FIS):
        deps = {d.urn for d in t.property_dependencies.get("stopConditions") or []}
        for stop in as_list(t.props.get("stopConditions")):
            if not is_map(stop) or stop.get("source") != "aws:cloudwatch:alarm":
                continue
            arn = str(stop.get("value") or "")
            by_name = arn.rsplit(":alarm:", 1)[-1] in names
            by_dependency = any(a.urn in deps for a in alarms)
            if not (by_name or by_dependency):
                yield f"experiment {t.name} stops on alarm {arn or '?'} which is not in this stack", t.urn


POLICIES = [
    resource_rule("fis-stop-on-alarm-and-log", "FIS experiments stop on a CloudWatch alarm and log their runs.",
                  "add stopConditions (aws:cloudwatch:alarm) from the stack's SLOs and a logConfiguration",
                  (FIS,), _stop_and_log),
]
STACK_POLICIES = [
    stack_rule("fis-alarms-in-stack", "Every FIS stop-condition alarm exists in the stack.",
               "stop on this stack's SLO alarms (global-platform:slos)", _alarms_exist),
]

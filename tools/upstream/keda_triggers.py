"""KEDA aws-cloudwatch triggers the platform publishes (the `platform-slo-triggers` ConfigMap),
checked as KEDA v2.20.2 reads them (kedacore/keda v2.20.2 pkg/scalers/aws_cloudwatch_scaler.go,
read 2026-11-26: awsCloudwatchMetadata, Validate, checkMetricStatPeriod), and each `expression`
against the CloudWatch Metrics Insights grammar (CloudWatch user guide, "Metrics Insights query
components and syntax": SELECT FUNCTION(metric) FROM namespace|SCHEMA(...) [WHERE ...]
[GROUP BY ...] [ORDER BY FUNCTION() [ASC|DESC]] [LIMIT n], FUNCTION one of AVG, COUNT, MAX,
MIN, SUM; no arithmetic: metric math over a query is a separate MetricDataQuery, and KEDA sends
exactly one). A trigger KEDA rejects fails every ScaledObject that uses it, silently for the
platform: this check is the only place it shows before an app team tries it.
"""

from __future__ import annotations

import json
import re

from tools.upstream import Finding, resources

NAME = "keda-triggers"
DESCRIPTION = "published KEDA aws-cloudwatch triggers vs KEDA v2.20.2's parser and the Metrics Insights grammar"

KNOWN = {"namespace", "metricName", "dimensionName", "dimensionValue", "expression", "targetMetricValue",
         "activationTargetMetricValue", "minMetricValue", "ignoreNullValues", "metricCollectionTime", "metricStat",
         "metricUnit", "metricStatPeriod", "metricEndTimeOffset", "awsAccountId", "awsRegion", "awsEndpoint",
         "identityOwner"}
REQUIRED = ("targetMetricValue", "minMetricValue", "awsRegion")  # no `optional`/`default` in the struct tags
STATS = {"Average", "Sum", "Minimum", "Maximum", "SampleCount"}
PERCENTILE = re.compile(r"^(p|tm|wm|tc|ts|pr)\d{1,2}(\.\d+)?$|^(TM|WM|TC|TS|PR)\(.+\)$")
_FN = r"(AVG|COUNT|MAX|MIN|SUM)"
_NAME = r'("[^"]+"|[A-Za-z_][\w.:/-]*)'
INSIGHTS = re.compile(
    rf"^SELECT\s+{_FN}\(\s*{_NAME}\s*\)\s+FROM\s+({_NAME}|SCHEMA\([^()]*\))"
    rf"(\s+WHERE\s+(?P<where>.+?))?(\s+GROUP\s+BY\s+[^()]+?)?"
    rf"(\s+ORDER\s+BY\s+{_FN}\(\)(\s+(ASC|DESC))?)?(\s+LIMIT\s+\d+)?\s*$", re.I | re.S)


def _number(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def check_trigger(trigger: dict) -> list[tuple[str, str]]:
    """(path, problem) for one trigger, as KEDA v2.20.2 would refuse it."""
    out: list[tuple[str, str]] = []
    if trigger.get("type") != "aws-cloudwatch":
        return out
    meta = trigger.get("metadata") or {}
    for key in sorted(set(meta) - KNOWN):
        out.append((f"metadata.{key}", f"'{key}' is not a parameter of the aws-cloudwatch scaler (KEDA v2.20.2)"))
    for key in REQUIRED:
        if key not in meta:
            out.append((f"metadata.{key}", f"'{key}' is required (KEDA v2.20.2 has no default for it)"))
    for key in ("targetMetricValue", "activationTargetMetricValue", "minMetricValue"):
        if key in meta and _number(meta[key]) is None:
            out.append((f"metadata.{key}", f"'{meta[key]}' is not a number"))
    expression = meta.get("expression", "")
    if not expression:
        for key in ("namespace", "metricName", "dimensionName", "dimensionValue"):
            if not meta.get(key):
                out.append((f"metadata.{key}", f"without an expression, '{key}' is required "
                                               f"(KEDA: '{key.replace('metricName', 'metric name')} not given')"))
        names, values = str(meta.get("dimensionName", "")).split(";"), str(meta.get("dimensionValue", "")).split(";")
        if meta.get("dimensionName") and len(names) != len(values):
            out.append(("metadata.dimensionValue", "dimensionName and dimensionValue are not matching in size"))
        stat = meta.get("metricStat", "Average")
        if stat not in STATS and not PERCENTILE.match(str(stat)):
            out.append(("metadata.metricStat", f"'{stat}' is not a CloudWatch statistic"))
    else:
        m = INSIGHTS.match(expression.strip())
        if m is None:
            out.append(("metadata.expression", f"not a Metrics Insights query (one aggregate AVG|COUNT|MAX|MIN|SUM "
                                                f"of one metric, no arithmetic): {expression}"))
        elif re.search(r"[*+/]|\s-\s", re.sub(r"'[^']*'|\"[^\"]*\"", "", m.group("where") or "")):
            out.append(("metadata.expression", f"arithmetic in a Metrics Insights WHERE clause: {expression}"))
    period = _number(meta.get("metricStatPeriod", 300))
    collection = _number(meta.get("metricCollectionTime", 300))
    if period is None or period < 1 or (period <= 60 and period not in (1, 5, 10, 30, 60)) \
            or (period > 60 and period % 60):
        out.append(("metadata.metricStatPeriod", f"{meta.get('metricStatPeriod')} is not 1, 5, 10, 30, 60 or a "
                                                 "multiple of 60"))
    elif collection is None or collection < 0 or collection % period:
        out.append(("metadata.metricCollectionTime", f"{meta.get('metricCollectionTime', 300)} must be a multiple of "
                                                     f"metricStatPeriod ({meta.get('metricStatPeriod', 300)})"))
    return out


def check(doc: dict) -> list[Finding]:
    findings = []
    for urn, typ, inputs in resources(doc):
        if typ != "kubernetes:core/v1:ConfigMap":
            continue
        if (inputs.get("metadata") or {}).get("name") != "platform-slo-triggers":
            continue
        for name, text in sorted((inputs.get("data") or {}).items()):
            try:
                trigger = json.loads(text)
            except (TypeError, ValueError):
                findings.append(Finding(NAME, urn, f"data.{name}", "not a JSON trigger"))
                continue
            for path, problem in check_trigger(trigger):
                findings.append(Finding(NAME, urn, f"data.{name}.{path}", problem))
    return findings

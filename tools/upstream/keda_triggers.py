"""KEDA triggers the platform publishes (the `platform-slo-triggers` and `platform-dependent-triggers`
ConfigMaps). aws-cloudwatch triggers are
checked as KEDA v2.20.2 reads them (kedacore/keda v2.20.2 pkg/scalers/aws_cloudwatch_scaler.go,
read 2026-11-26: awsCloudwatchMetadata, Validate, checkMetricStatPeriod), and each `expression`
against the CloudWatch Metrics Insights grammar (CloudWatch user guide, "Metrics Insights query
components and syntax": SELECT FUNCTION(metric) FROM namespace|SCHEMA(...) [WHERE ...]
[GROUP BY ...] [ORDER BY FUNCTION() [ASC|DESC]] [LIMIT n], FUNCTION one of AVG, COUNT, MAX,
MIN, SUM; no arithmetic: metric math over a query is a separate MetricDataQuery, and KEDA sends
exactly one). A trigger KEDA rejects fails every ScaledObject that uses it, silently for the
platform: this check is the only place it shows before an app team tries it.

prometheus triggers are checked as KEDA v2.20.2 reads them (pkg/scalers/prometheus_scaler.go:
prometheusMetadata with serverAddress, query and threshold required, the authentication.Config keys
of pkg/scalers/authentication/authentication_types.go; checkAuthConfigWithPodIdentity refuses
authModes together with a pod identity; with no authModes and podIdentity provider `aws` the request
is SigV4-signed for service `aps` in `awsRegion`, pkg/scalers/aws/aws_sigv4.go, so an AMP server needs
awsRegion equal to the workspace's region; ExecutePromQuery appends `/api/v1/query` to serverAddress and
fails on more than one result series), and each query is parsed as PromQL (promql-parser). Every
authenticationRef must name a ClusterTriggerAuthentication (or TriggerAuthentication) of the plan.
"""

from __future__ import annotations

import json
import re

from tools.upstream import Finding, resources

NAME = "keda-triggers"
DESCRIPTION = ("published KEDA aws-cloudwatch and prometheus triggers vs KEDA v2.20.2's parsers, the Metrics Insights "
               "grammar and PromQL")
CONFIGMAPS = ("platform-slo-triggers", "platform-dependent-triggers")

# prometheusMetadata's keys (keda tags `name=...`) plus authentication.Config's trigger-metadata keys.
PROMETHEUS_KNOWN = {"serverAddress", "query", "queryParameters", "threshold", "activationThreshold", "namespace",
                    "customHeaders", "ignoreNullValues", "unsafeSsl", "awsRegion", "timeout", "identityOwner",
                    "authModes", "authMode", "apiKey", "method", "keyParamName"}
PROMETHEUS_REQUIRED = ("serverAddress", "query", "threshold")
AMP_SERVER = re.compile(r"^https://aps-workspaces\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?"
                        r"/workspaces/(?P<ws>[^/]+)(?P<rest>/.*)?$")

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


def check_prometheus_trigger(trigger: dict) -> list[tuple[str, str]]:
    """(path, problem) for one prometheus trigger, as KEDA v2.20.2 would refuse it or AMP would."""
    from components.config.observability import promql_problem

    out: list[tuple[str, str]] = []
    meta = trigger.get("metadata") or {}
    for key in sorted(set(meta) - PROMETHEUS_KNOWN):
        out.append((f"metadata.{key}", f"'{key}' is not a parameter of the prometheus scaler (KEDA v2.20.2)"))
    for key in PROMETHEUS_REQUIRED:
        if not meta.get(key):
            out.append((f"metadata.{key}", f"'{key}' is required (KEDA v2.20.2 has no default for it)"))
    for key in ("threshold", "activationThreshold"):
        if key in meta and _number(meta[key]) is None:
            out.append((f"metadata.{key}", f"'{meta[key]}' is not a number"))
    if meta.get("query") and (problem := promql_problem(str(meta["query"]), single_series=True)):
        out.append(("metadata.query", problem))
    server = str(meta.get("serverAddress", ""))
    if server and not re.match(r"^https?://[^/\s]+", server):
        out.append(("metadata.serverAddress", f"'{server}' is not an http(s) URL"))
    amp = AMP_SERVER.match(server)
    if amp:
        if amp.group("rest"):
            out.append(("metadata.serverAddress", f"KEDA appends /api/v1/query: an AMP server address ends at "
                                                  f"/workspaces/<id> (got '{server}')"))
        if meta.get("awsRegion") != amp.group("region"):
            out.append(("metadata.awsRegion", f"SigV4 signs for awsRegion ('{meta.get('awsRegion')}'); the workspace "
                                              f"is in {amp.group('region')}"))
        if not trigger.get("authenticationRef"):
            out.append(("authenticationRef", "an AMP query needs SigV4: an authenticationRef to a pod identity "
                                             "(provider aws)"))
        if meta.get("authModes") or meta.get("authMode"):
            out.append(("metadata.authModes", "authModes turn SigV4 off (KEDA signs only with no auth mode), and "
                                              "'pod identity cannot be enabled with other auth types'"))
    return out


def check_trigger(trigger: dict) -> list[tuple[str, str]]:
    """(path, problem) for one trigger, as KEDA v2.20.2 would refuse it."""
    out: list[tuple[str, str]] = []
    if trigger.get("type") == "prometheus":
        return check_prometheus_trigger(trigger)
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


def _trigger_auths(doc: dict) -> dict[tuple[str, str], dict]:
    """(kind, name) -> spec of every (Cluster)TriggerAuthentication the plan creates."""
    out = {}
    for _urn, typ, inputs in resources(doc):
        kind = inputs.get("kind") if typ.startswith("kubernetes:keda.sh/") else None
        if kind is None and typ.startswith("kubernetes:apiextensions.k8s.io"):
            kind = inputs.get("kind")
        if kind in ("ClusterTriggerAuthentication", "TriggerAuthentication"):
            out[(kind, (inputs.get("metadata") or {}).get("name"))] = inputs.get("spec") or {}
    return out


def check(doc: dict) -> list[Finding]:
    findings = []
    auths = _trigger_auths(doc)
    for urn, typ, inputs in resources(doc):
        if typ != "kubernetes:core/v1:ConfigMap":
            continue
        if (inputs.get("metadata") or {}).get("name") not in CONFIGMAPS:
            continue
        for name, text in sorted((inputs.get("data") or {}).items()):
            try:
                trigger = json.loads(text)
            except (TypeError, ValueError):
                findings.append(Finding(NAME, urn, f"data.{name}", "not a JSON trigger"))
                continue
            for path, problem in check_trigger(trigger):
                findings.append(Finding(NAME, urn, f"data.{name}.{path}", problem))
            ref = trigger.get("authenticationRef") or {}
            if ref and auths and (ref.get("kind", "TriggerAuthentication"), ref.get("name")) not in auths:
                findings.append(Finding(NAME, urn, f"data.{name}.authenticationRef",
                                        f"no {ref.get('kind', 'TriggerAuthentication')} '{ref.get('name')}' in the plan"))
            elif ref and trigger.get("type") == "prometheus" and auths and \
                    (auths.get((ref.get("kind", "TriggerAuthentication"), ref.get("name"))) or {}).get(
                        "podIdentity", {}).get("provider") != "aws" and AMP_SERVER.match(
                        str((trigger.get("metadata") or {}).get("serverAddress", ""))):
                findings.append(Finding(NAME, urn, f"data.{name}.authenticationRef",
                                        "an AMP query is signed only with podIdentity provider aws"))
    return findings

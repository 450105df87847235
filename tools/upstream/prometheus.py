"""What the plan hands Amazon Managed Service for Prometheus, checked as Prometheus and AMP read it.

- Rule files (`aws:amp/ruleGroupNamespace:RuleGroupNamespace` `data`): the Prometheus rule-file
  format AMP takes (AMP API reference, RuleGroupsNamespaceData: "a YAML rules file"), as
  prometheus/prometheus v2.53.0 model/rulefmt/rulefmt.go parses it (read 2026-11-26): strict keys
  (decoder.KnownFields) `groups[]` of name, interval, query_offset, limit, rules; a rule is
  record | alert (exactly one), expr (parsed as PromQL), for, keep_firing_for, labels,
  annotations; group names set and unique; recording rules take neither annotations nor for, and
  their name is a metric name; label names match `[a-zA-Z_][a-zA-Z0-9_]*`; durations are
  model.Duration (`1h30m`, `90s`, ...).
- Scrape configurations (`aws:amp/scraper:Scraper` `scrapeConfiguration`): AMP user guide, "Using an
  AWS managed collector", Scraper configuration and limitations (read 2026-11-26): only the sections
  global, scrape_config, static_config, relabel_config, metric_relabel_configs and
  kubernetes_sd_config; scrape interval at least 30 s; authorization, when given, Bearer from
  /var/run/secrets/kubernetes.io/serviceaccount/token; static targets as IP addresses. A scraper's
  EKS source takes at least two subnets in two AZs.
- Alert manager definitions (`aws:amp/alertManagerDefinition:AlertManagerDefinition` `definition`):
  AMP user guide, "Create an alert manager configuration" and "Configure alert manager to send
  messages to your Amazon SNS topic" (read 2026-11-26): a YAML map of `alertmanager_config` (a
  string: the Alertmanager configuration) and optional `template_files`; SNS is the only receiver
  (`sns_configs`), without `api_url` or `http_config`, its `sigv4` with a `region`; the route tree
  names only receivers the configuration defines (Alertmanager's config loader refuses others);
  repeat_interval at most five days (longer is treated as five).

Templates in labels and annotations (Go text/template) are not parsed here: the platform writes none.
"""

from __future__ import annotations

import re

import yaml

from tools.upstream import Finding, resources

NAME = "prometheus"
DESCRIPTION = ("AMP rule files vs Prometheus v2.53.0's rulefmt (PromQL parsed), scraper configurations vs the "
               "sections and limits AMP managed collectors accept, alert manager definitions vs AMP's SNS-only form")

_DURATION = re.compile(r"^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
GROUP_KEYS = {"name", "interval", "query_offset", "limit", "rules"}
RULE_KEYS = {"record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"}

TOKEN_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/token"
MIN_INTERVAL_SECONDS = 30
GLOBAL_KEYS = {"scrape_interval", "scrape_timeout", "external_labels", "scrape_protocols", "body_size_limit",
               "sample_limit", "label_limit", "label_name_length_limit", "label_value_length_limit", "target_limit"}
# <scrape_config> keys of Prometheus' configuration reference, less the *_sd_configs AMP does not run
# (only kubernetes_sd_configs) and the authentication forms it does not take (basic_auth, oauth2, tls files).
SCRAPE_KEYS = {"job_name", "scrape_interval", "scrape_timeout", "scrape_protocols", "metrics_path", "honor_labels",
               "honor_timestamps", "track_timestamps_staleness", "scheme", "params", "authorization",
               "bearer_token_file", "tls_config", "follow_redirects", "enable_http2", "kubernetes_sd_configs",
               "static_configs", "relabel_configs", "metric_relabel_configs", "body_size_limit", "sample_limit",
               "label_limit", "label_name_length_limit", "label_value_length_limit", "target_limit"}


def duration_seconds(value) -> float | None:
    """model.Duration in seconds, or None when Prometheus would refuse it ("0" is allowed)."""
    text = str(value)
    if text == "0":
        return 0.0
    m = _DURATION.match(text)
    if not text or not m:
        return None
    units = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
    return sum(int(m.group(2 * i + 2) or 0) * u for i, u in enumerate(units))


def check_rule_file(text: str) -> list[tuple[str, str]]:
    """(path, problem) for one rule file, as rulefmt.Parse would report it."""
    from components.config.observability import promql_problem

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        return [("data", f"not YAML: {err.__class__.__name__}")]
    if not isinstance(doc, dict) or set(doc) - {"groups"}:
        return [("data", "a rule file is a map with one key, 'groups' (rulefmt RuleGroups)")]
    out, seen = [], set()
    for gi, group in enumerate(doc.get("groups") or []):
        gpath = f"data.groups[{gi}]"
        if not isinstance(group, dict):
            out.append((gpath, "a group is a map"))
            continue
        for key in sorted(set(group) - GROUP_KEYS):
            out.append((f"{gpath}.{key}", f"field {key} not found in type rulefmt.RuleGroup"))
        name = group.get("name")
        if not name:
            out.append((f"{gpath}.name", "Groupname must not be empty"))
        elif name in seen:
            out.append((f"{gpath}.name", f"groupname: \"{name}\" is repeated in the same file"))
        seen.add(name)
        for key in ("interval", "query_offset"):
            if key in group and duration_seconds(group[key]) is None:
                out.append((f"{gpath}.{key}", f"not a Prometheus duration: {group[key]!r}"))
        for ri, rule in enumerate(group.get("rules") or []):
            out += [(f"{gpath}.rules[{ri}]{p}", m) for p, m in _check_rule(rule, promql_problem)]
    return out


def _check_rule(rule, promql_problem) -> list[tuple[str, str]]:
    if not isinstance(rule, dict):
        return [("", "a rule is a map")]
    out = [(f".{k}", f"field {k} not found in type rulefmt.RuleNode") for k in sorted(set(rule) - RULE_KEYS)]
    record, alert, expr = rule.get("record"), rule.get("alert"), rule.get("expr")
    if record and alert:
        out.append(("", "only one of 'record' and 'alert' must be set"))
    if not record and not alert:
        out.append(("", "one of 'record' or 'alert' must be set"))
    if not expr:
        out.append((".expr", "field 'expr' must be set in rule"))
    elif (problem := promql_problem(str(expr))) is not None:
        out.append((".expr", f"could not parse expression: {problem}"))
    if record:
        if rule.get("annotations"):
            out.append((".annotations", "invalid field 'annotations' in recording rule"))
        if duration_seconds(rule.get("for", "0")):
            out.append((".for", "invalid field 'for' in recording rule"))
        if not _METRIC.match(str(record)):
            out.append((".record", f"invalid recording rule name: {record}"))
    for key in ("for", "keep_firing_for"):
        if key in rule and duration_seconds(rule[key]) is None:
            out.append((f".{key}", f"not a Prometheus duration: {rule[key]!r}"))
    for k in (rule.get("labels") or {}):
        if not _LABEL.match(str(k)) or k == "__name__":
            out.append((f".labels.{k}", f"invalid label name: {k}"))
    for k in (rule.get("annotations") or {}):
        if not _LABEL.match(str(k)):
            out.append((f".annotations.{k}", f"invalid annotation name: {k}"))
    return out


def check_scrape_config(text: str) -> list[tuple[str, str]]:
    """(path, problem) for one scraper configuration, as AMP's managed collector would refuse it."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        return [("scrapeConfiguration", f"not YAML: {err.__class__.__name__}")]
    if not isinstance(doc, dict):
        return [("scrapeConfiguration", "a Prometheus configuration is a map")]
    out = [(f"scrapeConfiguration.{k}", f"AMP managed collectors take only global and scrape_configs, not {k}")
           for k in sorted(set(doc) - {"global", "scrape_configs"})]
    glob = doc.get("global") or {}
    out += [(f"scrapeConfiguration.global.{k}", f"'{k}' is not a <global> setting")
            for k in sorted(set(glob) - GLOBAL_KEYS)]
    out += _interval("scrapeConfiguration.global", glob)
    jobs = set()
    for i, job in enumerate(doc.get("scrape_configs") or []):
        path = f"scrapeConfiguration.scrape_configs[{i}]"
        if not isinstance(job, dict) or not job.get("job_name"):
            out.append((path, "a scrape config needs a job_name"))
            continue
        if job["job_name"] in jobs:
            out.append((f"{path}.job_name", f"job_name {job['job_name']} is used twice"))
        jobs.add(job["job_name"])
        for key in sorted(set(job) - SCRAPE_KEYS):
            why = ("only kubernetes_sd_configs discovery" if key.endswith("_sd_configs")
                   else "not a <scrape_config> setting AMP takes")
            out.append((f"{path}.{key}", f"'{key}': {why}"))
        out += _interval(path, job)
        auth = job.get("authorization")
        if auth is not None and (auth.get("type", "Bearer") != "Bearer" or auth.get("credentials_file") != TOKEN_FILE
                                 or set(auth) - {"type", "credentials_file"}):
            out.append((f"{path}.authorization", f"AMP takes only Bearer from {TOKEN_FILE}"))
        if "bearer_token_file" in job and job["bearer_token_file"] != TOKEN_FILE:
            out.append((f"{path}.bearer_token_file", f"AMP reads only {TOKEN_FILE}"))
        for si, static in enumerate(job.get("static_configs") or []):
            for target in static.get("targets") or []:
                host = str(target).rsplit(":", 1)[0]
                if not re.match(r"^\d{1,3}(\.\d{1,3}){3}$", host) and host != "kubernetes.default.svc":
                    out.append((f"{path}.static_configs[{si}]", f"static targets must be IP addresses: {target}"))
    return out


def _interval(path: str, section: dict) -> list[tuple[str, str]]:
    if "scrape_interval" not in section:
        return []
    seconds = duration_seconds(section["scrape_interval"])
    if seconds is None:
        return [(f"{path}.scrape_interval", f"not a Prometheus duration: {section['scrape_interval']!r}")]
    if seconds < MIN_INTERVAL_SECONDS:
        return [(f"{path}.scrape_interval", f"AMP managed collectors scrape at most every {MIN_INTERVAL_SECONDS} s")]
    return []


RECEIVER_KEYS = {"name", "sns_configs"}
SNS_KEYS = {"send_resolved", "sigv4", "topic_arn", "phone_number", "target_arn", "subject", "message", "attributes"}


def _route_problems(route, names: set, path: str) -> list[tuple[str, str]]:
    out = []
    if not isinstance(route, dict):
        return [(path, "a route is a map")]
    if route.get("receiver") is not None and route["receiver"] not in names:
        out.append((f"{path}.receiver", f"undefined receiver {route['receiver']!r} used in route"))
    if "repeat_interval" in route and (duration_seconds(route["repeat_interval"]) or 0) > 5 * 86400:
        out.append((f"{path}.repeat_interval", "AMP caps repeat_interval at five days"))
    for i, sub in enumerate(route.get("routes") or []):
        out += _route_problems(sub, names, f"{path}.routes[{i}]")
    return out


def check_alertmanager_definition(text: str) -> list[tuple[str, str]]:
    """(path, problem) for one AMP alert manager definition."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        return [("definition", f"not YAML: {err.__class__.__name__}")]
    if not isinstance(doc, dict) or set(doc) - {"alertmanager_config", "template_files"} \
            or not isinstance(doc.get("alertmanager_config"), str):
        return [("definition", "AMP takes a map of alertmanager_config (a string, `alertmanager_config: |`) "
                               "and template_files")]
    try:
        cfg = yaml.safe_load(doc["alertmanager_config"])
    except yaml.YAMLError as err:
        return [("definition.alertmanager_config", f"not YAML: {err.__class__.__name__}")]
    if not isinstance(cfg, dict) or not isinstance(cfg.get("route"), dict):
        return [("definition.alertmanager_config.route", "an Alertmanager configuration needs a route")]
    out, names = [], set()
    base = "definition.alertmanager_config"
    if not cfg["route"].get("receiver"):
        out.append((f"{base}.route.receiver", "root route must specify a default receiver"))
    for ri, rec in enumerate(cfg.get("receivers") or []):
        rpath = f"{base}.receivers[{ri}]"
        if not isinstance(rec, dict) or not rec.get("name"):
            out.append((rpath, "a receiver is a map with a name"))
            continue
        names.add(rec["name"])
        out += [(f"{rpath}.{k}", "AMP's only receiver is SNS (sns_configs)") for k in sorted(set(rec) - RECEIVER_KEYS)]
        for si, sns in enumerate(rec.get("sns_configs") or []):
            spath = f"{rpath}.sns_configs[{si}]"
            for key in sorted(set(sns) - SNS_KEYS):
                out.append((f"{spath}.{key}", f"{key} is not allowed in an AMP alert manager configuration"))
            if not (sns.get("sigv4") or {}).get("region"):
                out.append((f"{spath}.sigv4.region", "AMP requires sigv4 with a region"))
            if not (sns.get("topic_arn") or sns.get("target_arn") or sns.get("phone_number")):
                out.append((spath, "an SNS receiver needs topic_arn"))
    return out + _route_problems(cfg["route"], names, f"{base}.route")


def check(doc: dict) -> list[Finding]:
    findings = []
    for urn, typ, inputs in resources(doc):
        if typ == "aws:amp/ruleGroupNamespace:RuleGroupNamespace" and isinstance(inputs.get("data"), str):
            findings += [Finding(NAME, urn, p, m) for p, m in check_rule_file(inputs["data"])]
        elif typ == "aws:amp/alertManagerDefinition:AlertManagerDefinition" \
                and isinstance(inputs.get("definition"), str):
            findings += [Finding(NAME, urn, p, m) for p, m in check_alertmanager_definition(inputs["definition"])]
        elif typ == "aws:amp/scraper:Scraper":
            if isinstance(inputs.get("scrapeConfiguration"), str):
                findings += [Finding(NAME, urn, p, m) for p, m in check_scrape_config(inputs["scrapeConfiguration"])]
            subnets = ((inputs.get("source") or {}).get("eks") or {}).get("subnetIds")
            if isinstance(subnets, list) and len(subnets) < 2:
                findings.append(Finding(NAME, urn, "source.eks.subnetIds",
                                        "a managed scraper needs at least two subnets in two AZs"))
    return findings

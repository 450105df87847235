"""Deploy-time and monthly-cost estimate of a plan in `pulumi preview --json` layout.

    python -m tools.estimate --preview-json build/preview-prod.json [--json OUT] [--baseline PATH]

Two figures, each with its sources:

* the deploy critical path: the longest chain through the dependency graph (dependencies,
  propertyDependencies and each resource's provider; Pulumi runs everything else in parallel),
  every created resource weighted by a typical create time for its type
  (tools/estimate_data/durations.json). A type with no published typical figure gets a small
  default and is listed as such; the same walk with the Terraform AWS provider's create
  timeouts gives an upper bound. Waits AWS imposes that the plan does not spell out are added
  (a transit gateway peering attachment is usable only once its accepter has run).
* the monthly list-price cost of the billable resources, per region and per charge, from
  tools/estimate_data/prices.json. A price that could not be sourced is reported as unknown
  with the quantity it would apply to, never guessed. Data transfer, request-based and
  usage-based charges (storage, I/O, backups) are out of scope; types that carry only such
  charges are listed as not priced, with the reason.

Bad input (missing file, bad JSON, no steps) ends with one message and exit code 2.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from tools.cli import Parser, quiet_on_closed_pipe, read_json, write_json

DATA_DIR = Path(__file__).resolve().parent / "estimate_data"
PRICES_PATH = DATA_DIR / "prices.json"
DURATIONS_PATH = DATA_DIR / "durations.json"
EKS_VERSIONS_PATH = (Path(__file__).resolve().parent / "upstream" / "data" / "pins"
                     / "eks-kubernetes-versions.json")

CREATE_OPS = {"create", "replace", "create-replacement"}
ZERO_OPS = {"same", "read", "refresh", "import"}
SKIP_OPS = {"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace",
            "read-discard", "read-replacement"}

PEERING = "aws:ec2transitgateway/peeringAttachment:PeeringAttachment"
ACCEPTER = "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter"

OUT_OF_SCOPE = ("Data transfer (inter-AZ, inter-region, internet egress, NAT and endpoint "
                "data processing, TGW data processing, CloudFront transfer out) and request- or "
                "usage-based charges (API calls, queries, SQS/SNS/EventBridge messages, KMS "
                "requests, WAF requests, CloudWatch Logs ingestion and storage, VPC flow logs, "
                "Aurora storage, I/O, backups and Global Database replicated writes, ElastiCache "
                "backups, S3 storage and requests, CloudFront requests) are out of scope.")

CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"


class EstimateError(Exception):
    """Input the estimator cannot use; the CLI prints it and exits 2."""


# ------------------------------------------------------------------ input

def _load_json(path: str | Path, what: str) -> Any:
    return read_json(path, what, EstimateError)


def load_plan(path: str | Path) -> dict:
    data = _load_json(path, "preview JSON")
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list) or not data["steps"]:
        raise EstimateError(f"preview JSON {path}: no steps (expected the `pulumi preview --json` "
                            "layout with a non-empty 'steps' list)")
    for i, step in enumerate(data["steps"]):
        state = step.get("newState") if isinstance(step, dict) else None
        if not isinstance(state, dict) or not isinstance(state.get("urn"), str) \
                or not isinstance(state.get("type"), str):
            raise EstimateError(f"preview JSON {path}: step {i} has no newState with urn and type")
    return data


class Plan:
    """The resources of one preview, their dependency edges and regions."""

    def __init__(self, data: dict):
        self.config = data.get("config") or {}
        self.res: dict[str, dict] = {}
        self.op: dict[str, str] = {}
        for step in data["steps"]:
            state = step["newState"]
            op = step.get("op") or "create"
            if op in SKIP_OPS:
                continue
            self.res[state["urn"]] = state
            self.op[state["urn"]] = op
        self.children: dict[str, list[str]] = defaultdict(list)
        for urn, st in self.res.items():
            if st.get("parent"):
                self.children[st["parent"]].append(urn)
        self._region: dict[str, str | None] = {}

    def of_type(self, *types: str) -> list[str]:
        return sorted(u for u, st in self.res.items() if st["type"] in types)

    @staticmethod
    def provider_urn(state: dict) -> str | None:
        ref = state.get("provider") or ""
        return ref.rsplit("::", 1)[0] if ref else None

    def deps(self, urn: str) -> set[str]:
        st = self.res[urn]
        out = set(st.get("dependencies") or [])
        for lst in (st.get("propertyDependencies") or {}).values():
            out.update(lst or [])
        prov = self.provider_urn(st)
        if prov:
            out.add(prov)
        out.discard(urn)
        return {d for d in out if d in self.res}

    # -- regions
    def region(self, urn: str) -> str | None:
        if urn not in self._region:
            self._region[urn] = None  # cycle guard
            self._region[urn] = self._find_region(urn)
        return self._region[urn]

    def _find_region(self, urn: str) -> str | None:
        st = self.res[urn]
        inputs = st.get("inputs") or {}
        if st["type"].startswith("pulumi:providers:aws") or st["type"].startswith("aws:"):
            if isinstance(inputs.get("region"), str) and inputs["region"]:
                return inputs["region"]
        prov = self.provider_urn(st)
        if prov and prov in self.res:
            r = self.region(prov)
            if r:
                return r
        if st.get("parent") and st["parent"] in self.res:
            r = self._component_region(st["parent"])
            if r:
                return r
        r = self.config.get("aws:region")
        return r if isinstance(r, str) else None

    def _component_region(self, urn: str) -> str | None:
        found: set[str] = set()
        stack = list(self.children.get(urn, []))
        while stack:
            c = stack.pop()
            st = self.res[c]
            prov = self.provider_urn(st)
            if prov and prov in self.res and self.res[prov]["type"].startswith("pulumi:providers:aws"):
                r = (self.res[prov].get("inputs") or {}).get("region")
                if isinstance(r, str):
                    found.add(r)
            elif st["type"].startswith("pulumi:providers:aws"):
                r = (st.get("inputs") or {}).get("region")
                if isinstance(r, str):
                    found.add(r)
            stack.extend(self.children.get(c, []))
        if len(found) == 1:
            return found.pop()
        st = self.res[urn]
        if st.get("parent") and st["parent"] in self.res and not found:
            return self._component_region(st["parent"])
        return None


# ------------------------------------------------------------------ critical path

def _implicit_waits(plan: Plan) -> list[dict]:
    """AWS-imposed waits the plan's edges do not show: a transit gateway peering attachment
    sits in pendingAcceptance until the peer side accepts it; routes and route-table
    associations that use it can only be made once it is available, i.e. after the accepter."""
    accepters: dict[str, list[str]] = defaultdict(list)
    for a in plan.of_type(ACCEPTER):
        for d in plan.deps(a):
            if plan.res[d]["type"] == PEERING:
                accepters[d].append(a)
    waits = []
    for urn in sorted(plan.res):
        if plan.res[urn]["type"] == ACCEPTER:
            continue
        for d in sorted(plan.deps(urn)):
            if plan.res[d]["type"] != PEERING:
                continue
            for a in accepters.get(d, []):
                if a not in plan.deps(urn):
                    waits.append({"before": urn, "waitFor": a, "peeringAttachment": d,
                                  "why": "a TGW peering attachment is usable (routes, route-table "
                                         "associations) only once the peer accepts it; the plan "
                                         "makes this resource wait for the attachment only"})
    return waits


def _weights(plan: Plan, durations: dict, mode: str) -> dict[str, tuple[float, str, float | None]]:
    """seconds, source text and timeout for every resource; mode 'typical' or 'timeout'."""
    default = float(durations.get("defaultSeconds", 5))
    srcs = durations.get("sources", {})
    types = durations.get("types", {})
    out = {}
    for urn, st in plan.res.items():
        op = plan.op[urn]
        spec = types.get(st["type"], {})
        timeout = spec.get("timeoutSeconds")
        if timeout == "input:timeout":
            t = (st.get("inputs") or {}).get("timeout")
            timeout = float(t) if isinstance(t, (int, float)) and not isinstance(t, bool) else None
        if op in ZERO_OPS:
            out[urn] = (0.0, f"op '{op}': no change, no wait", timeout)
            continue
        if st["type"].startswith("pulumi:providers:"):
            out[urn] = (0.0, "provider configuration: nothing is created in the cloud", timeout)
            continue
        if st.get("custom") is False and spec.get("typicalSeconds") is None \
                and spec.get("timeoutSeconds") is None:
            out[urn] = (0.0, "component resource: a logical grouping, nothing is created in the cloud",
                        timeout)
            continue
        if op not in CREATE_OPS:
            out[urn] = (default, f"default {default:g} s (op '{op}', not a create)", timeout)
            continue
        typical = spec.get("typicalSeconds")
        if mode == "timeout" and timeout is not None:
            src = srcs.get(spec.get("timeoutSource", ""), {})
            where = spec.get("timeoutPath") or src.get("what", "")
            out[urn] = (float(timeout), f"create timeout (upper bound): {src.get('url', '')} {where}".strip(),
                        timeout)
        elif typical is not None:
            src = srcs.get(spec.get("typicalSource", ""), {})
            rng = spec.get("typicalRange")
            extra = f", published range {rng[0]}-{rng[1]} s" if rng else ""
            out[urn] = (float(typical), f"typical{extra}: {src.get('what', '')} <{src.get('url', '')}>",
                        timeout)
        else:
            tail = ""
            if timeout is not None:
                src = srcs.get(spec.get("timeoutSource", ""), {})
                tail = f"; create timeout {timeout:g} s per {src.get('url', '')} {spec.get('timeoutPath', '')}".rstrip()
            out[urn] = (default, f"default {default:g} s (no published typical figure{tail})", timeout)
    return out


def critical_path(plan: Plan, durations: dict, mode: str = "typical",
                  waits: list[dict] | None = None) -> dict:
    deps = {u: plan.deps(u) for u in plan.res}
    for w in waits or []:
        deps[w["before"]].add(w["waitFor"])
    weights = _weights(plan, durations, mode)
    indeg = {u: len(ds) for u, ds in deps.items()}
    users: dict[str, list[str]] = defaultdict(list)
    for u, ds in deps.items():
        for d in ds:
            users[d].append(u)
    ready = [u for u, n in indeg.items() if n == 0]
    heapq.heapify(ready)
    finish: dict[str, float] = {}
    pred: dict[str, str | None] = {}
    while ready:
        u = heapq.heappop(ready)
        best, bp = 0.0, None
        for d in sorted(deps[u]):
            if finish[d] > best:
                best, bp = finish[d], d
        finish[u] = best + weights[u][0]
        pred[u] = bp
        for v in users[u]:
            indeg[v] -= 1
            if indeg[v] == 0:
                heapq.heappush(ready, v)
    if len(finish) != len(deps):
        stuck = sorted(u for u in deps if u not in finish)
        raise EstimateError(f"dependency cycle among {len(stuck)} resources, e.g. {stuck[0]}")
    end = min(finish, key=lambda u: (-finish[u], u))
    chain = []
    u: str | None = end
    while u is not None:
        chain.append(u)
        u = pred[u]
    chain.reverse()
    resources = []
    for u in chain:
        secs, src, timeout = weights[u]
        resources.append({"urn": u, "type": plan.res[u]["type"], "seconds": secs,
                          "finishesAt": finish[u], "source": src,
                          "timeoutSeconds": timeout})
    defaults = sorted({r["type"] for r in resources if r["source"].startswith("default")})
    return {"seconds": finish[end], "resources": resources, "defaultWeightedTypes": defaults}


# ------------------------------------------------------------------ cost

def _parse_date(s: str | None) -> _dt.date | None:
    try:
        return _dt.date.fromisoformat(s) if s else None
    except ValueError:
        return None


def eks_support(version: str | None, as_of: _dt.date, versions: dict,
                support_type: str | None = None) -> tuple[str | None, str]:
    """('standard' | 'extended' | None, explanation) for an EKS Kubernetes version on a date."""
    if not version:
        return None, "cluster has no Kubernetes version in the plan"
    row = next((v for v in versions.get("versions", []) if v.get("kubernetes") == str(version)), None)
    if row is None:
        return None, f"Kubernetes {version} is not in {EKS_VERSIONS_PATH.name}"
    end_std, end_ext = _parse_date(row.get("end_of_standard")), _parse_date(row.get("end_of_extended"))
    if end_std is None:
        return None, f"no end-of-standard-support date for {version}"
    if as_of < end_std:
        return "standard", f"Kubernetes {version} is in standard support until {end_std} (as of {as_of})"
    if (support_type or "").upper() == "STANDARD":
        return "standard", (f"Kubernetes {version} left standard support on {end_std}; upgradePolicy "
                            "STANDARD makes AWS upgrade the cluster, billed at the standard rate")
    if end_ext is None or as_of < end_ext:
        return "extended", (f"Kubernetes {version} left standard support on {end_std} and is in "
                            f"extended support until {end_ext} (as of {as_of})")
    return None, f"Kubernetes {version} is past the end of extended support ({end_ext})"


_ISO_DUR = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def _iso_minutes(value: str) -> float | None:
    m = _ISO_DUR.match(value or "")
    if not m or not any(m.groups()):
        return None
    d, h, mi, s = (int(x) if x else 0 for x in m.groups())
    return d * 1440 + h * 60 + mi + s / 60


# FIS: AWS bills each action's active time, "calculated from the time an action starts until it
# stops, rounded to the nearest minute", at one price "regardless of the action type, number of
# affected resources, or total experiment duration" (aws.amazon.com/fis/pricing, read
# 2026-11-26): targets never multiply. An action with a `duration` parameter runs that long
# (less if a stop condition ends it: the figure is an upper bound for those). Actions without
# one (terminate, failover, pod delete, spot notices) end when their calls complete; the page
# documents no minimum charge, so each counts as FIS_UNTIMED_MINUTES, an assumption the report
# names.
FIS_UNTIMED_MINUTES = 1
GAME_DAY_WINDOW_DAYS = 30
SCHEDULE = "aws:scheduler/schedule:Schedule"
FIS_TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"

_SCHED_MONTHS = {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())}
_SCHED_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}  # Scheduler: 1 = SUN


def _cron_values(text: str, lo: int, hi: int, names: dict | None = None) -> set[int]:
    """One cron field (lists, ranges, steps, names) as the values it matches."""
    out: set[int] = set()

    def value(tok: str) -> int:
        tok = tok.upper()
        v = (names or {}).get(tok)
        if v is None:
            if not tok.isdigit():
                raise ValueError(f"'{tok}' is not a number")
            v = int(tok)
        if not lo <= v <= hi:
            raise ValueError(f"{v} is outside {lo}-{hi}")
        return v

    for part in text.split(","):
        base, _, step = part.partition("/")
        first, last = (lo, hi) if base == "*" else (value(base.split("-")[0]), value(base.split("-")[-1]))
        if step and base != "*" and "-" not in base:
            last = hi
        stride = int(step) if step else 1
        if stride < 1 or last < first:
            raise ValueError(f"bad range or step in '{part}'")
        out.update(range(first, last + 1, stride))
    return out


def _weekday(d: _dt.date) -> int:
    return (d.weekday() + 1) % 7 + 1  # Python: Monday 0; Scheduler: Sunday 1


def _last_day(d: _dt.date) -> int:
    nxt = (d.replace(day=28) + _dt.timedelta(days=4))
    return (nxt - _dt.timedelta(days=nxt.day)).day


def _dom_matches(field: str, d: _dt.date) -> bool:
    if field in ("*", "?"):
        return True
    last = _last_day(d)
    if field == "L":
        return d.day == last
    if field.endswith("W"):  # the weekday nearest that day, in the same month ("LW": the last weekday)
        target = last if field == "LW" else int(field[:-1])
        want = _dt.date(d.year, d.month, min(target, last))
        if want.weekday() == 5:
            want = want - _dt.timedelta(days=1) if want.day > 1 else want + _dt.timedelta(days=2)
        elif want.weekday() == 6:
            want = want + _dt.timedelta(days=1) if want.day < last else want - _dt.timedelta(days=2)
        return d == want
    return d.day in _cron_values(field, 1, 31)


def _dow_matches(field: str, d: _dt.date) -> bool:
    if field in ("*", "?"):
        return True
    wd = _weekday(d)
    if "#" in field:  # the n-th such weekday of the month
        day, nth = field.split("#")
        return wd == _cron_values(day, 1, 7, _SCHED_DAYS).pop() and (d.day - 1) // 7 + 1 == int(nth)
    if field == "L":
        return wd == 7
    if field.endswith("L"):  # the last such weekday of the month
        return wd == _cron_values(field[:-1], 1, 7, _SCHED_DAYS).pop() and d.day + 7 > _last_day(d)
    return wd in _cron_values(field, 1, 7, _SCHED_DAYS)


def scheduler_cron_runs(expr: str, start: _dt.date, days: int = GAME_DAY_WINDOW_DAYS) -> int:
    """How many times an EventBridge Scheduler `cron(min hour dom month dow year)` fires on the
    `days` calendar days from `start` (dates in the schedule's own time zone; a DST gap or
    repeat is not modelled). Raises ValueError on an expression it cannot read."""
    m = re.fullmatch(r"\s*cron\((.*)\)\s*", expr or "")
    parts = m.group(1).split() if m else []
    if len(parts) != 6:
        raise ValueError(f"'{expr}' is not cron(minutes hours day-of-month month day-of-week year)")
    minute, hour, dom, month, dow, year = parts
    per_day = len(_cron_values(minute, 0, 59)) * len(_cron_values(hour, 0, 23))
    months, years = _cron_values(month, 1, 12, _SCHED_MONTHS), _cron_values(year, 1970, 2199)
    runs = 0
    for i in range(days):
        d = start + _dt.timedelta(days=i)
        if d.month in months and d.year in years and _dom_matches(dom.upper(), d) and _dow_matches(dow.upper(), d):
            runs += per_day
    return runs


class CostModel:
    def __init__(self, plan: Plan, prices: dict, as_of: _dt.date, eks_versions: dict):
        self.plan, self.prices, self.as_of, self.eks_versions = plan, prices, as_of, eks_versions
        self.hours = float(prices.get("hoursPerMonth", 730))
        self.items: list[dict] = []
        self.not_priced: dict[str, dict] = {}
        self.assumptions: list[str] = []
        self.fis: list[dict] = []

    # -- price lookup
    def price(self, key: str, region: str | None, instance_type: str | None = None) -> tuple[float | None, dict]:
        entry = self.prices.get("prices", {}).get(key)
        if entry is None:
            return None, {"reason": f"no entry '{key}' in prices.json"}
        src = self.prices.get("sources", {}).get(entry.get("source", ""), {})
        meta = {"source": src.get("url"), "sourceWhat": src.get("what"), "read": src.get("read"),
                "licence": src.get("licence"), "unit": entry.get("unit"), "note": entry.get("note")}
        table = entry.get("byInstanceType") if instance_type is not None else entry.get("byRegion")
        value = None
        if instance_type is not None:
            per = (table or {}).get(instance_type) or {}
            value = per.get(region) if isinstance(per, dict) else None
        else:
            table = table or {}
            value = table.get(region) if region in table else table.get("*")
        if value is None:
            meta["reason"] = (f"no sourced {entry.get('unit', '')} price for "
                              f"{instance_type + ' in ' if instance_type else ''}{region or 'an unknown region'}: "
                              + (src.get("what") or "not found"))
        return value, meta

    def add(self, urn: str, charge: str, key: str, quantity: float, unit: str, hourly: bool,
            instance_type: str | None = None, note: str | None = None) -> None:
        if quantity <= 0:
            return
        region = self.plan.region(urn)
        self.items.append({"urn": urn, "type": self.plan.res[urn]["type"], "region": region,
                           "charge": charge, "priceKey": key + (f":{instance_type}" if instance_type else ""),
                           "baseKey": key, "instanceType": instance_type, "quantity": quantity,
                           "unit": unit, "hourly": hourly, "note": note})

    def skip(self, urn: str, why: str) -> None:
        t = self.plan.res[urn]["type"]
        e = self.not_priced.setdefault(f"{t}|{why}", {"type": t, "count": 0, "why": why})
        e["count"] += 1

    # -- per type
    def run(self) -> None:
        p = self.plan
        for urn in sorted(p.res):
            st = p.res[urn]
            t, inp = st["type"], st.get("inputs") or {}
            fn = HANDLERS.get(t)
            if fn:
                fn(self, urn, inp)
            elif t in NOT_PRICED:
                self.skip(urn, NOT_PRICED[t])

    def eks_cluster(self, urn: str, inp: dict) -> None:
        policy = inp.get("upgradePolicy") or {}
        status, why = eks_support(inp.get("version"), self.as_of, self.eks_versions,
                                  policy.get("supportType") if isinstance(policy, dict) else None)
        if status is None:
            self.add(urn, "EKS cluster (support status unknown)", "eks.cluster.unknown", 1,
                     "cluster-hour", True, note=why)
        else:
            self.add(urn, f"EKS cluster ({status} support)", f"eks.cluster.{status}", 1,
                     "cluster-hour", True, note=why)

    def node_group(self, urn: str, inp: dict) -> None:
        scaling = inp.get("scalingConfig") or {}
        desired = scaling.get("desiredSize")
        if not isinstance(desired, (int, float)):
            desired = scaling.get("minSize") or 0
        capacity = (inp.get("capacityType") or "ON_DEMAND").upper()
        types = inp.get("instanceTypes") or []
        lt = self._launch_template(urn)
        itype = types[0] if types else (lt or {}).get("instanceType")
        spot = capacity == "SPOT"
        charge = ("EC2 instances, SPOT node groups (priced at on-demand: upper bound)" if spot
                  else "EC2 instances, ON_DEMAND node groups")
        if itype:
            self.add(urn, charge, "ec2.ondemand.linux", desired, "instance-hour", True,
                     instance_type=itype,
                     note=(f"{desired} x {itype} (first of {types})" if len(types) > 1 else None))
        elif desired:
            self.add(urn, charge, "ec2.ondemand.linux.unknown-type", desired, "instance-hour", True,
                     note="no instance type in the node group or its launch template")
        size, vtype = None, None
        for bdm in (lt or {}).get("blockDeviceMappings") or []:
            ebs = bdm.get("ebs") or {}
            if ebs.get("volumeSize"):
                size, vtype = ebs.get("volumeSize"), (ebs.get("volumeType") or "gp2")
                break
        if size is None and isinstance(inp.get("diskSize"), (int, float)):
            size, vtype = inp["diskSize"], "gp2"
        if size and desired:
            key = "ebs.gp3.gbMonth" if vtype == "gp3" else f"ebs.{vtype}.gbMonth"
            self.add(urn, f"EBS {vtype} root volumes (node groups)", key, float(size) * desired,
                     "GB-month", False, note=f"{desired} x {size} GiB {vtype}")

    def _launch_template(self, urn: str) -> dict | None:
        st = self.plan.res[urn]
        for d in (st.get("propertyDependencies") or {}).get("launchTemplate") or []:
            lt = self.plan.res.get(d)
            if lt and lt["type"] == "aws:ec2/launchTemplate:LaunchTemplate":
                return lt.get("inputs") or {}
        return None

    def nat(self, urn: str, inp: dict) -> None:
        self.add(urn, "NAT gateway", "natgw.hour", 1, "NAT-gateway-hour", True)

    def amp_collector(self, urn: str, inp: dict) -> None:
        # the managed collector is billed for the hours it is on, besides the samples it collects
        self.add(urn, "AMP managed collectors", "amp.collector.hour", 1, "collector-hour", True)

    def eip(self, urn: str, inp: dict) -> None:
        self.add(urn, "Public IPv4 addresses (Elastic IPs)", "publicIpv4.hour", 1, "public-IPv4-hour", True)

    def tgw_attachment(self, urn: str, inp: dict) -> None:
        kind = {"aws:ec2transitgateway/vpcAttachment:VpcAttachment": "VPC",
                PEERING: "peering (requester side)", ACCEPTER: "peering (accepter side)"}[self.plan.res[urn]["type"]]
        self.add(urn, f"TGW attachments ({kind})", "tgw.attachment.hour", 1, "attachment-hour", True)

    def vpn(self, urn: str, inp: dict) -> None:
        self.add(urn, "Site-to-Site VPN connections", "vpn.connection.hour", 1, "VPN-connection-hour", True)
        if inp.get("transitGatewayId"):
            self.add(urn, "TGW attachments (VPN)", "tgw.attachment.hour", 1, "attachment-hour", True)
        if (inp.get("presharedKeyStorage") or "") == "SecretsManager":
            self.skip(urn, "presharedKeyStorage SecretsManager: AWS keeps the tunnels' pre-shared keys "
                           "in Secrets Manager; how many secrets it bills is not modelled")

    def dx_association(self, urn: str, inp: dict) -> None:
        gw = str(inp.get("associatedGatewayId") or "")
        if gw.startswith("tgw-") or "transitGateway" in json.dumps(
                (self.plan.res[urn].get("propertyDependencies") or {}).get("associatedGatewayId") or []):
            self.add(urn, "TGW attachments (Direct Connect gateway)", "tgw.attachment.hour", 1,
                     "attachment-hour", True)
        else:
            self.skip(urn, "Direct Connect gateway association with a virtual private gateway: no "
                           "hourly attachment modelled")

    def vpce(self, urn: str, inp: dict) -> None:
        if (inp.get("vpcEndpointType") or "Gateway") == "Interface":
            azs = len(inp.get("subnetIds") or []) or 1
            self.add(urn, "Interface VPC endpoints", "vpce.interface.azHour", azs, "endpoint-AZ-hour",
                     True, note=f"{azs} AZ(s)")
        else:
            self.skip(urn, "gateway VPC endpoint (S3/DynamoDB): no hourly line item is modelled")

    def kms(self, urn: str, inp: dict) -> None:
        self.add(urn, "KMS keys", "kms.key", 1, "key-month", False)

    def waf(self, urn: str, inp: dict) -> None:
        self.add(urn, "WAF web ACLs", "waf.webAcl.month", 1, "web-ACL-month", False)
        rules = inp.get("rules") or []
        self.add(urn, "WAF rules", "waf.rule.month", len(rules), "rule-month", False,
                 note="managed rule groups counted as one rule each")

    def alarm(self, urn: str, inp: dict) -> None:
        queries = inp.get("metricQueries") or []
        if queries:
            metrics = [q.get("metric") or {} for q in queries if q.get("metric")]
            count = len(metrics)
            periods = [m.get("period") for m in metrics if isinstance(m.get("period"), (int, float))]
            period = min(periods) if periods else 60
            math = any(q.get("expression") for q in queries)
        else:
            count, period, math = 1, inp.get("period") or 60, False
        hi = isinstance(period, (int, float)) and period < 60
        key = "cloudwatch.alarm.highres.metricMonth" if hi else "cloudwatch.alarm.standard.metricMonth"
        charge = "CloudWatch alarms (high resolution)" if hi else "CloudWatch alarms (standard resolution)"
        self.add(urn, charge, key, max(count, 1), "alarm-metric-month", False,
                 note=(f"metric-math alarm over {count} metrics, billed per metric" if math else None))

    def resolver(self, urn: str, inp: dict) -> None:
        enis = len(inp.get("ipAddresses") or []) or 2
        self.add(urn, "Route 53 Resolver endpoint ENIs", "route53resolver.eni", enis, "ENI-hour", True,
                 note=f"{enis} IP addresses ({inp.get('direction', '?')})")

    def ssm(self, urn: str, inp: dict) -> None:
        tier = inp.get("tier") or "Standard"
        key = "ssm.parameter.standard" if tier == "Standard" else f"ssm.parameter.{tier.lower()}"
        self.add(urn, f"SSM parameters ({tier.lower()})", key, 1, "parameter-month", False)

    def secret(self, urn: str, inp: dict) -> None:
        self.add(urn, "Secrets Manager secrets", "secretsmanager.secret.month", 1, "secret-month", False)

    def rds(self, urn: str, inp: dict) -> None:
        cls = inp.get("instanceClass") or "unknown-class"
        self.add(urn, "RDS instances", f"rds.{cls}.hour", 1, "instance-hour", True)

    def _assume(self, text: str) -> None:
        if text not in self.assumptions:
            self.assumptions.append(text)

    def _dependency(self, urn: str, prop: str, typ: str) -> dict | None:
        """Inputs of the resource of type `typ` that input `prop` of `urn` names in the plan."""
        for d in (self.plan.res[urn].get("propertyDependencies") or {}).get(prop) or []:
            st = self.plan.res.get(d)
            if st and st["type"] == typ:
                return st.get("inputs") or {}
        return None

    def aurora_instance(self, urn: str, inp: dict) -> None:
        """An Aurora DB instance: instance-hours by class, engine and the cluster's storage
        configuration (Aurora I/O-Optimized has its own instance rate). Storage, I/O and
        backups are usage (out of scope); Performance Insights at 7 days is the free tier."""
        cluster = self._dependency(urn, "clusterIdentifier", RDS_CLUSTER) or {}
        engine = str(inp.get("engine") or cluster.get("engine") or "aurora-mysql")
        flavour = {"aurora": "mysql", "aurora-mysql": "mysql", "aurora-postgresql": "postgresql"}.get(
            engine, engine.removeprefix("aurora-"))
        edition = {"mysql": "MySQL", "postgresql": "PostgreSQL"}.get(flavour, flavour)
        cls = inp.get("instanceClass")
        storage = "iooptimized" if cluster.get("storageType") == "aurora-iopt1" else "standard"
        config = "Aurora I/O-Optimized" if storage == "iooptimized" else "Aurora Standard"
        self._assume("Aurora: each cluster instance is billed per instance-hour by class, engine and "
                     "region at the cluster's storage configuration (Aurora Standard unless the "
                     "cluster sets storageType aurora-iopt1, Aurora I/O-Optimized, a different rate); "
                     "a cluster without a storageType in the plan is taken as Standard. RDS Extended "
                     "Support charges and Database Insights are not modelled.")
        if cls == "db.serverless":
            scaling = cluster.get("serverlessv2ScalingConfiguration") or {}
            self.skip(urn, "Aurora Serverless v2 instance (db.serverless): billed per ACU-hour as it "
                           f"scales (minCapacity {scaling.get('minCapacity', '?')} ACU), not modelled")
        elif cls:
            self.add(urn, f"Aurora {edition} instances ({config})", f"aurora.{flavour}.{storage}.instance",
                     1, "instance-hour", True, instance_type=str(cls))
        else:
            self.add(urn, f"Aurora {edition} instances ({config})",
                     f"aurora.{flavour}.{storage}.instance.unknown-class", 1, "instance-hour", True,
                     note="no instanceClass in the plan")
        pi = inp.get("performanceInsightsEnabled")
        if pi is None:
            pi = cluster.get("performanceInsightsEnabled")
        if pi is True:
            days = inp.get("performanceInsightsRetentionPeriod") or cluster.get(
                "performanceInsightsRetentionPeriod") or 7
            if days == 7:
                self.add(urn, "RDS Performance Insights (7-day retention, free tier)",
                         "rds.performanceInsights.freeTier", 1, "instance-month", False)
            else:
                self.skip(urn, f"Performance Insights with {days} days' retention: the paid tier "
                               "(billed per vCPU of the instance class) is not modelled")

    def cache_replication_group(self, urn: str, inp: dict) -> None:
        """ElastiCache (node-based): node-hours by node type, engine and region."""
        engine = str(inp.get("engine") or "redis").lower()
        label = {"valkey": "Valkey", "redis": "Redis OSS"}.get(engine, engine)
        groups, replicas = inp.get("numNodeGroups"), inp.get("replicasPerNodeGroup")
        configs = inp.get("nodeGroupConfigurations") or []
        if isinstance(groups, int) or isinstance(replicas, int):
            g = groups if isinstance(groups, int) else max(len(configs), 1)
            r = replicas if isinstance(replicas, int) else 0
            nodes, how = g * (1 + r), f"{g} node group(s) x (1 primary + {r} replica(s))"
        elif isinstance(inp.get("numCacheClusters"), int):
            nodes, how = inp["numCacheClusters"], f"numCacheClusters {inp['numCacheClusters']}"
        elif configs:
            nodes = sum(1 + int(c.get("replicaCount") or 0) for c in configs)
            how = f"{len(configs)} nodeGroupConfigurations"
        else:
            nodes, how = 1, "no node count in the plan: one node (the primary)"
        self._assume("ElastiCache: a replication group runs numNodeGroups x (1 + replicasPerNodeGroup) "
                     "nodes when those are set, else numCacheClusters; each node is billed per "
                     "node-hour by node type, engine (Valkey and Redis OSS have different rates) and "
                     "region. Backup storage is usage, out of scope.")
        ntype = inp.get("nodeType")
        if ntype:
            self.add(urn, f"ElastiCache nodes ({label})", f"elasticache.{engine}.node", nodes,
                     "node-hour", True, instance_type=str(ntype), note=how)
        else:
            self.add(urn, f"ElastiCache nodes ({label})", f"elasticache.{engine}.node.unknown-type", nodes,
                     "node-hour", True, note=f"{how}; no nodeType in the plan (a global datastore "
                                             "member takes it from the primary)")

    def acm_certificate(self, urn: str, inp: dict) -> None:
        options = inp.get("options") or {}
        if inp.get("certificateAuthorityArn"):
            self.skip(urn, "ACM private certificate: billed through AWS Private CA, not modelled")
        elif isinstance(options, dict) and str(options.get("export") or "").upper() == "ENABLED":
            self.skip(urn, "ACM exportable public certificate: charged once at issuance and at each "
                           "renewal, not a monthly charge; not modelled")
        else:
            self.skip(urn, NOT_PRICED[self.plan.res[urn]["type"]])

    def fis_template(self, urn: str, inp: dict) -> None:
        """One template's cost per run: the sum over its actions of action-minutes x the
        action-minute price (targets do not multiply; see FIS_UNTIMED_MINUTES)."""
        per_minute, meta = self.price("fis.actionMinute", self.plan.region(urn))
        minutes, untimed, actions = 0.0, [], []
        for action in inp.get("actions") or []:
            params = {p.get("key"): p.get("value") for p in action.get("parameters") or []}
            m = _iso_minutes(str(params.get("duration") or ""))
            timed = m is not None
            billed = round(m) if timed else FIS_UNTIMED_MINUTES
            if not timed:
                untimed.append(action.get("actionId"))
            minutes += billed
            actions.append({"name": action.get("name"), "actionId": action.get("actionId"), "minutes": billed,
                            "timed": timed})
        entry = {"urn": urn, "region": self.plan.region(urn), "template": (inp.get("tags") or {}).get("Name"),
                 "actions": actions, "actionMinutes": minutes,
                 "usdPerRun": round(minutes * per_minute, 4) if per_minute is not None else None,
                 "source": meta.get("source"),
                 "targetsMultiply": False}
        if untimed:
            entry["actionsWithoutDuration"] = untimed
            entry["note"] = (f"these actions carry no duration parameter: each counts as {FIS_UNTIMED_MINUTES} "
                             "action-minute (AWS bills their real running time rounded to the nearest minute; "
                             "no minimum is documented)")
        self.fis.append(entry)

    def fis_game_days(self) -> dict:
        """A month of game days: each schedule that starts an experiment, its runs in the
        GAME_DAY_WINDOW_DAYS days from the as-of date, times its template's cost per run."""
        per_run = {f["urn"]: f for f in self.fis}
        out: list[dict] = []
        for urn in self.plan.of_type(SCHEDULE):
            st = self.plan.res[urn]
            inp = st.get("inputs") or {}
            target = inp.get("target") or {}
            if not str(target.get("arn") or "").endswith(":fis:startExperiment"):
                continue
            linked = [u for u in (st.get("propertyDependencies") or {}).get("target") or st.get("dependencies") or []
                      if u in per_run]
            entry = {"urn": urn, "region": self.plan.region(urn), "cron": inp.get("scheduleExpression"),
                     "timeZone": inp.get("scheduleExpressionTimezone"),
                     "templateUrn": linked[0] if linked else None}
            try:
                entry["runs"] = scheduler_cron_runs(str(inp.get("scheduleExpression") or ""), self.as_of)
            except ValueError as exc:
                entry["runs"], entry["note"] = None, f"cannot count runs: {exc}"
            usd_run = per_run[linked[0]]["usdPerRun"] if linked else None
            entry["usdPerRun"] = usd_run
            entry["usd"] = (round(entry["runs"] * usd_run, 4)
                            if entry["runs"] is not None and usd_run is not None else None)
            if not linked:
                entry["note"] = "the experiment template it starts is not in the plan"
            out.append(entry)
        known = [e["usd"] for e in out if e["usd"] is not None]
        return {"windowDays": GAME_DAY_WINDOW_DAYS, "from": self.as_of.isoformat(), "schedules": out,
                "usd": round(sum(known), 2), "complete": len(known) == len(out)}

    # -- result
    def result(self) -> dict:
        lines: dict[tuple, dict] = {}
        unknown: dict[tuple, dict] = {}
        by_region: dict[str, float] = defaultdict(float)
        by_type: dict[str, float] = defaultdict(float)
        for it in self.items:
            price, meta = self.price(it["baseKey"], it["region"], it["instanceType"])
            units = it["quantity"] * (self.hours if it["hourly"] else 1.0)
            k = (it["charge"], it["region"] or "unknown", it["priceKey"])
            if price is None:
                u = unknown.setdefault(k, {"charge": it["charge"], "region": it["region"],
                                           "priceKey": it["priceKey"], "quantity": 0,
                                           "unit": it["unit"], "monthlyUnits": 0.0,
                                           "resources": 0, "reason": meta.get("reason")})
                u["quantity"] += it["quantity"]
                u["monthlyUnits"] += units
                u["resources"] += 1
                continue
            cost = units * price
            ln = lines.setdefault(k, {"charge": it["charge"], "region": it["region"],
                                      "priceKey": it["priceKey"], "quantity": 0, "unit": it["unit"],
                                      "unitPrice": price, "monthlyUnits": 0.0, "monthlyUsd": 0.0,
                                      "resources": 0, "source": meta.get("source"),
                                      "read": meta.get("read"), "licence": meta.get("licence"),
                                      "notes": []})
            ln["quantity"] += it["quantity"]
            ln["monthlyUnits"] += units
            ln["monthlyUsd"] += cost
            ln["resources"] += 1
            for n in (it.get("note"), meta.get("note")):
                if n and n not in ln["notes"] and len(ln["notes"]) < 4:
                    ln["notes"].append(n)
            by_region[it["region"] or "unknown"] += cost
            by_type[it["charge"]] += cost
        for ln in lines.values():
            ln["monthlyUsd"] = round(ln["monthlyUsd"], 2)
            ln["monthlyUnits"] = round(ln["monthlyUnits"], 3)
        for u in unknown.values():
            u["monthlyUnits"] = round(u["monthlyUnits"], 3)
        karpenter = self.plan.of_type("kubernetes:karpenter.sh/v1:NodePool")
        assumptions = [
            f"{self.hours:g} hours per month; list prices, no Savings Plans, Reserved Instances, "
            "Free Tier or credits.",
            "Node groups: EC2 at desiredSize, priced at the first listed instance type (Linux, "
            "shared tenancy, ON_DEMAND rate); SPOT node groups are priced at the on-demand rate "
            "as an upper bound and shown as their own charge. Scheduled scaling and autoscalers "
            "change the real count.",
            "EBS: one root volume per node from the node group's launch template.",
            "EKS control plane: standard vs extended support from the Kubernetes version and "
            f"{EKS_VERSIONS_PATH.name} as of {self.as_of}.",
            "A TGW peering is billed on both sides: the requester's attachment and the "
            "accepter's attachment, each in its own region.",
            "KMS: first year of each key (one backing key; each yearly rotation adds one key-month "
            "price).",
            "CloudWatch alarms: billed per metric in the alarm (metric-math alarms count every "
            "metric they read); high resolution when a metric period is under 60 s.",
        ]
        if karpenter:
            assumptions.append(f"{len(karpenter)} Karpenter NodePool(s): nodes Karpenter launches "
                               "on demand are not in the plan and are not costed.")
        assumptions.extend(self.assumptions)
        unknown_list = sorted(unknown.values(), key=lambda u: (u["charge"], u["region"] or "", u["priceKey"]))
        return {
            "totalUsd": round(sum(by_region.values()), 2),
            "complete": not unknown_list,
            "byRegion": {k: round(v, 2) for k, v in sorted(by_region.items())},
            "byType": {k: round(v, 2) for k, v in sorted(by_type.items())},
            "lines": sorted(lines.values(), key=lambda x: (x["charge"], x["region"] or "", x["priceKey"])),
            "unknown": unknown_list,
            "notPriced": sorted(self.not_priced.values(), key=lambda x: x["type"]),
            "fisPerExperimentRun": self.fis,
            "fisGameDays": self.fis_game_days(),
            "assumptions": assumptions,
            "outOfScope": OUT_OF_SCOPE,
            "pricesRead": self.prices.get("read"),
        }


HANDLERS = {
    "eks:index:Cluster": CostModel.eks_cluster,
    "aws:eks/cluster:Cluster": CostModel.eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": CostModel.node_group,
    "aws:ec2/natGateway:NatGateway": CostModel.nat,
    "aws:ec2/eip:Eip": CostModel.eip,
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": CostModel.tgw_attachment,
    PEERING: CostModel.tgw_attachment,
    ACCEPTER: CostModel.tgw_attachment,
    "aws:ec2/vpnConnection:VpnConnection": CostModel.vpn,
    "aws:directconnect/gatewayAssociation:GatewayAssociation": CostModel.dx_association,
    "aws:ec2/vpcEndpoint:VpcEndpoint": CostModel.vpce,
    "aws:kms/key:Key": CostModel.kms,
    "aws:wafv2/webAcl:WebAcl": CostModel.waf,
    "aws:cloudwatch/metricAlarm:MetricAlarm": CostModel.alarm,
    "aws:route53/resolverEndpoint:ResolverEndpoint": CostModel.resolver,
    "aws:ssm/parameter:Parameter": CostModel.ssm,
    "aws:secretsmanager/secret:Secret": CostModel.secret,
    "aws:rds/instance:Instance": CostModel.rds,
    "aws:fis/experimentTemplate:ExperimentTemplate": CostModel.fis_template,
    CLUSTER_INSTANCE: CostModel.aurora_instance,
    "aws:elasticache/replicationGroup:ReplicationGroup": CostModel.cache_replication_group,
    "aws:acm/certificate:Certificate": CostModel.acm_certificate,
    "aws:amp/scraper:Scraper": CostModel.amp_collector,
}

NOT_PRICED = {
    "aws:amp/workspace:Workspace": "AMP workspace: samples ingested, stored and queried are usage, out of scope",
    "aws:amp/ruleGroupNamespace:RuleGroupNamespace": "AMP rules: their query samples are usage, out of scope",
    "aws:amp/alertManagerDefinition:AlertManagerDefinition": "AMP alert manager: alerts it sends are usage (SNS "
                                                              "publishes), out of scope",
    "aws:grafana/workspace:Workspace": "Managed Grafana: billed per active user licence per month, not in the plan",
    "aws:grafana/roleAssociation:RoleAssociation": "Managed Grafana role association: no charge of its own",
    "aws:appautoscaling/target:Target": "Application Auto Scaling: no charge; the Lambda provisioned concurrency it "
                                        "scales is billed by memory size and time, which the plan does not hold",
    "aws:appautoscaling/policy:Policy": "Application Auto Scaling policy: no charge (its alarms are AWS-managed)",
    "aws:appautoscaling/scheduledAction:ScheduledAction": "Application Auto Scaling scheduled action: no charge",
    "aws:sns/topicPolicy:TopicPolicy": "SNS topic policy: no charge of its own",
    "aws:sqs/queue:Queue": "SQS: no fixed monthly charge; requests are out of scope (negligible)",
    "aws:sns/topic:Topic": "SNS: no fixed monthly charge; publishes and deliveries are out of scope (negligible)",
    "aws:cloudwatch/eventRule:EventRule": "EventBridge rule: no fixed monthly charge; events are out of scope (negligible)",
    "aws:scheduler/schedule:Schedule": "EventBridge Scheduler: invocations are out of scope (negligible)",
    "aws:cloudwatch/logGroup:LogGroup": "CloudWatch Logs: ingestion and storage are usage-based, out of scope",
    "aws:ec2/flowLog:FlowLog": "VPC flow logs: usage-based (log delivery), out of scope",
    "aws:directconnect/gateway:Gateway": "Direct Connect gateway: no hourly charge modelled (ports and data are outside the plan)",
    "aws:ec2/customerGateway:CustomerGateway": "customer gateway: no charge of its own modelled",
    "aws:ec2transitgateway/transitGateway:TransitGateway": "transit gateway: billed through its attachments",
    "aws:rds/subnetGroup:SubnetGroup": "DB subnet group: no charge of its own modelled",
    "kubernetes:karpenter.sh/v1:NodePool": "Karpenter NodePool: nodes are launched at run time, not costed",
    RDS_CLUSTER: "Aurora cluster: storage, I/O and backup storage are usage-based, out of scope; its "
                 "instances are priced as aws:rds/clusterInstance",
    "aws:rds/globalCluster:GlobalCluster": "Aurora Global Database: replicated write I/Os are usage-based, "
                                           "out of scope; member clusters' instances are priced",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "DB cluster parameter group: configuration, "
                                                           "no charge of its own modelled",
    "aws:rds/parameterGroup:ParameterGroup": "DB parameter group: configuration, no charge of its own modelled",
    "aws:elasticache/subnetGroup:SubnetGroup": "cache subnet group: no charge of its own modelled",
    "aws:elasticache/parameterGroup:ParameterGroup": "cache parameter group: configuration, no charge "
                                                     "of its own modelled",
    "aws:elasticache/user:User": "ElastiCache user (RBAC): no charge of its own modelled",
    "aws:elasticache/userGroup:UserGroup": "ElastiCache user group (RBAC): no charge of its own modelled",
    "aws:s3/bucket:Bucket": "S3 bucket: storage, requests and lifecycle transitions are usage-based, "
                            "out of scope",
    "aws:s3/bucketV2:BucketV2": "S3 bucket: storage, requests and lifecycle transitions are usage-based, "
                                "out of scope",
    "aws:cloudfront/distribution:Distribution": "CloudFront distribution: requests and data transfer out "
                                                "are usage-based, out of scope",
    "aws:cloudfront/originAccessControl:OriginAccessControl": "CloudFront origin access control: "
                                                              "configuration, no charge of its own",
    "aws:acm/certificate:Certificate": "ACM public certificate: no charge, only the resources using it are "
                                      "billed (ACM pricing page, aws.amazon.com/jp/certificate-manager/"
                                      "pricing/, read 2026-11-26)",
    "aws:acm/certificateValidation:CertificateValidation": "ACM certificate validation: a wait for "
                                                           "issuance, no charge of its own",
}


# ------------------------------------------------------------------ driver

def _read_data(prices_path: str | Path | None, durations_path: str | Path | None) -> tuple[dict, dict, dict]:
    prices = _load_json(prices_path or PRICES_PATH, "prices file")
    durations = _load_json(durations_path or DURATIONS_PATH, "durations file")
    versions = _load_json(EKS_VERSIONS_PATH, "EKS version calendar")
    if not isinstance(prices, dict) or not isinstance(prices.get("prices"), dict):
        raise EstimateError(f"prices file {prices_path or PRICES_PATH}: no 'prices' object")
    if not isinstance(durations, dict) or not isinstance(durations.get("types"), dict):
        raise EstimateError(f"durations file {durations_path or DURATIONS_PATH}: no 'types' object")
    return prices, durations, versions


def estimate_plan(data: dict, prices: dict, durations: dict, versions: dict, as_of: _dt.date) -> dict:
    plan = Plan(data)
    waits = _implicit_waits(plan)
    typical = critical_path(plan, durations, "typical", waits)
    upper = critical_path(plan, durations, "timeout", waits)
    typical["upperBound"] = {"seconds": upper["seconds"],
                             "what": "the same walk weighted by create timeouts where known",
                             "resources": [{k: r[k] for k in ("urn", "type", "seconds", "source")}
                                           for r in upper["resources"]]}
    typical["implicitWaits"] = waits
    model = CostModel(plan, prices, as_of, versions)
    model.run()
    return {"criticalPath": typical, "monthlyCost": model.result(),
            "resources": len(plan.res), "regions": sorted({r for u in plan.res
                                                          if (r := plan.region(u))})}


def _delta(base: dict, new: dict) -> dict:
    bc, nc = base["monthlyCost"], new["monthlyCost"]

    def diff(a: dict, b: dict) -> dict:
        return {k: round(b.get(k, 0.0) - a.get(k, 0.0), 2) for k in sorted(set(a) | set(b))
                if round(b.get(k, 0.0) - a.get(k, 0.0), 2) != 0}
    return {
        "criticalPathSeconds": new["criticalPath"]["seconds"] - base["criticalPath"]["seconds"],
        "upperBoundSeconds": (new["criticalPath"]["upperBound"]["seconds"]
                              - base["criticalPath"]["upperBound"]["seconds"]),
        "monthlyUsd": round(nc["totalUsd"] - bc["totalUsd"], 2),
        "byRegion": diff(bc["byRegion"], nc["byRegion"]),
        "byType": diff(bc["byType"], nc["byType"]),
        "unknownLines": len(nc["unknown"]) - len(bc["unknown"]),
        "note": "deltas cover known prices only; see each side's 'unknown' list",
    }


def estimate(preview_json: str | Path, baseline: str | Path | None = None,
             prices_path: str | Path | None = None, durations_path: str | Path | None = None,
             as_of: _dt.date | None = None) -> dict:
    as_of = as_of or _dt.datetime.now(_dt.timezone.utc).date()
    prices, durations, versions = _read_data(prices_path, durations_path)
    data = load_plan(preview_json)
    base_data = load_plan(baseline) if baseline else None
    out = estimate_plan(data, prices, durations, versions, as_of)
    result = {"plan": str(preview_json), "asOf": as_of.isoformat(),
              "criticalPath": out["criticalPath"], "monthlyCost": out["monthlyCost"],
              "regions": out["regions"], "resources": out["resources"]}
    if base_data is not None:
        b = estimate_plan(base_data, prices, durations, versions, as_of)
        result["baseline"] = {"plan": str(baseline), "criticalPath": b["criticalPath"],
                              "monthlyCost": b["monthlyCost"], "regions": b["regions"],
                              "resources": b["resources"]}
        result["delta"] = _delta(b, out)
    return result


def _short(urn: str) -> str:
    head, _, name = urn.rpartition("::")
    return f"{head.rsplit('$', 1)[-1]}::{name}"


def _fmt_s(s: float) -> str:
    m, sec = divmod(int(round(s)), 60)
    return f"{s:g} s ({m} min {sec:02d} s)"


def _kind(price_key: str) -> str:
    """' db.r7g.large' for a price keyed by instance class or node type, else ''."""
    return f" {price_key.split(':', 1)[1]}" if ":" in price_key else ""


def render(result: dict) -> str:
    out: list[str] = []
    cp, mc = result["criticalPath"], result["monthlyCost"]
    out.append(f"plan: {result['plan']}  ({result['resources']} resources; regions: "
               f"{', '.join(result['regions'])}; as of {result['asOf']})")
    out.append("")
    out.append(f"Deploy critical path: {_fmt_s(cp['seconds'])}  "
               f"[upper bound with create timeouts: {_fmt_s(cp['upperBound']['seconds'])}]")
    for r in cp["resources"]:
        out.append(f"  {r['finishesAt']:>7g}  +{r['seconds']:<5g} {_short(r['urn'])}")
        out.append(f"           {r['source'][:160]}")
    if cp["defaultWeightedTypes"]:
        out.append(f"  default-weighted types on the path (no published typical figure): "
                   f"{', '.join(cp['defaultWeightedTypes'])}")
    if cp["implicitWaits"]:
        out.append(f"  AWS-imposed waits added: {len(cp['implicitWaits'])} "
                   "(TGW peering routes/associations wait for the accepter)")
    out.append("")
    out.append(f"Monthly cost (known list prices): ${mc['totalUsd']:,.2f}"
               + ("" if mc["complete"] else f"  -- INCOMPLETE: {len(mc['unknown'])} charges with unknown price"))
    for region, usd in mc["byRegion"].items():
        out.append(f"  {region:<16} ${usd:,.2f}")
    out.append("  by charge:")
    for ln in mc["lines"]:
        out.append(f"    {ln['charge']:<52} {ln['region'] or '?':<15} {ln['quantity']:g}{_kind(ln['priceKey'])} x "
                   f"${ln['unitPrice']:g}/{ln['unit']} = ${ln['monthlyUsd']:,.2f}  <{ln['source']}>")
    if mc["unknown"]:
        out.append("  unknown price (not included above):")
        for u in mc["unknown"]:
            out.append(f"    {u['charge']:<52} {u['region'] or '?':<15} {u['quantity']:g}{_kind(u['priceKey'])} "
                       f"{u['unit']} ({u['monthlyUnits']:g}/month)")
    if mc["fisPerExperimentRun"]:
        out.append("  FIS (per experiment run, not monthly; action-minutes, targets do not multiply):")
        for f in mc["fisPerExperimentRun"]:
            usd = "unknown" if f["usdPerRun"] is None else f"${f['usdPerRun']:.2f}"
            untimed = f.get("actionsWithoutDuration") or []
            assumed = (f"; {len(untimed)} without a duration counted as {FIS_UNTIMED_MINUTES} min each: "
                       f"{', '.join(dict.fromkeys(untimed))}" if untimed else "")
            out.append(f"    {_short(f['urn'])}: {len(f.get('actions') or [])} action(s), "
                       f"{f['actionMinutes']:g} action-min = {usd}{assumed}  <{f['source']}>")
    gd = mc.get("fisGameDays") or {}
    if gd.get("schedules"):
        out.append(f"  FIS game days ({gd['windowDays']} days from {gd['from']}): ${gd['usd']:,.2f}"
                   + ("" if gd["complete"] else " (some runs or prices unknown)"))
        for e in gd["schedules"]:
            runs = "?" if e["runs"] is None else f"{e['runs']}"
            per = "unknown" if e["usdPerRun"] is None else f"${e['usdPerRun']:.2f}"
            total = "unknown" if e["usd"] is None else f"${e['usd']:.2f}"
            out.append(f"    {_short(e['urn'])}: {e['cron']} {e['timeZone'] or ''} -> {runs} run(s) x {per} "
                       f"= {total}" + (f" ({e['note']})" if e.get("note") else ""))
    out.append(f"  {mc['outOfScope']}")
    out.append("  assumptions: " + " ".join(mc["assumptions"]))
    if "delta" in result:
        d = result["delta"]
        out.append("")
        out.append(f"Against baseline {result['baseline']['plan']}:")
        out.append(f"  critical path {d['criticalPathSeconds']:+g} s, upper bound {d['upperBoundSeconds']:+g} s")
        out.append(f"  monthly ${d['monthlyUsd']:+,.2f} (known prices; unknown charges {d['unknownLines']:+d})")
        for k, v in d["byRegion"].items():
            out.append(f"    region {k}: ${v:+,.2f}")
        for k, v in d["byType"].items():
            out.append(f"    {k}: ${v:+,.2f}")
    return "\n".join(out) + "\n"


def main(argv: Iterable[str] | None = None) -> int:
    quiet_on_closed_pipe()
    ap = Parser(prog="python -m tools.estimate",
                description="Deploy critical path and monthly list-price cost of a preview plan.")
    ap.add_argument("--preview-json", required=True, help="plan in `pulumi preview --json` layout")
    ap.add_argument("--json", dest="json_out", help="also write the result as JSON here")
    ap.add_argument("--baseline", help="a baseline plan: its figures and the deltas are added")
    ap.add_argument("--prices", help="prices file (default tools/estimate_data/prices.json)")
    ap.add_argument("--durations", help="durations file (default tools/estimate_data/durations.json)")
    ap.add_argument("--as-of", help="date for EKS support status, YYYY-MM-DD (default: today, UTC)")
    args = ap.parse_args(list(argv) if argv is not None else None)
    try:
        as_of = None
        if args.as_of:
            as_of = _parse_date(args.as_of)
            if as_of is None:
                raise EstimateError(f"--as-of {args.as_of!r}: not a YYYY-MM-DD date")
        result = estimate(args.preview_json, args.baseline, args.prices, args.durations, as_of)
        if args.json_out:
            write_json(args.json_out, result, EstimateError, sort_keys=True)
    except EstimateError as exc:
        print(f"estimate: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

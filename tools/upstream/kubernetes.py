"""Every Kubernetes object in a plan against the schema the cluster will hold for it: built-in
kinds against the OpenAPI schemas kubernetes-validate ships for the Kubernetes version the plan's
clusters run (the `version` input of eks:index:Cluster / aws:eks/cluster:Cluster; K8S_VERSION when
the plan shows none; every version when clusters differ) (strict: unknown fields are errors),
custom kinds against the openAPIV3Schema of the CRD at the pinned upstream version (data/crds/,
written by tools.upstream.refresh_crds).

A CRD schema is checked the way the API server checks a structural schema, without CEL: types,
enums, required, patterns, lengths and bounds, int-or-string, list-type set, and unknown fields,
which the server prunes silently (so a misspelt field "works" and does nothing). Metadata is
checked as ObjectMeta. `x-kubernetes-validations` rules are not evaluated, except the few
translated in TRANSLATED_CEL (Karpenter's alias format; Istio's durations, ports and
ServiceEntry spec rules); `python -m tools.upstream.kubernetes
--preview-json PATH` prints, per kind, how many rules applied to the planned objects and how
many of those were skipped.

Values a preview cannot show ("[secret]", unknown outputs) are not checked.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import jsonschema
import referencing

from tools.upstream import Finding, resources

NAME = "kubernetes"
DESCRIPTION = ("Kubernetes objects vs the OpenAPI schemas of the clusters' Kubernetes version (kubernetes-validate, "
               "strict) and the pinned CRD schemas in data/crds (Karpenter 1.14.1, KEDA 2.20.2, argo-cd chart 10.1.1, "
               "Istio 1.31.1 base chart); "
               "CEL rules counted, not run")

# The version whose schemas are used when the plan shows no cluster version (the platform's
# default, components/config/cluster.py DEFAULT_K8S_VERSION); kubernetes-validate 1.37.0 ships 1.35.
K8S_VERSION = "1.35.0"
# Resources whose `version` input is the Kubernetes version the cluster runs.
CLUSTER_TYPES = ("eks:index:Cluster", "aws:eks/cluster:Cluster")
CRD_DIR = Path(__file__).resolve().parent / "data" / "crds"
# What a preview shows for a value it cannot know: a secret, an output not known before apply.
OPAQUE = frozenset({"[secret]", "04da6b54-80e4-46f7-96ec-b56ff0331ba9"})
# Pulumi types under kubernetes: that are not API objects (components, Helm releases).
NOT_OBJECTS = re.compile(r"^kubernetes:(helm\.sh|yaml|kustomize)/")
_DEFS_ID = "https://kubernetes.io/api/_definitions.json"
OBJECT_META = {"$ref": f"{_DEFS_ID}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}


def _alias_version(s: str) -> Optional[str]:
    parts = s.split("@")
    return parts[1] if len(parts) > 1 else None


# CEL rules evaluated here, keyed by their exact text in the CRD (a changed rule upstream is
# then counted as skipped rather than checked wrongly). Each returns True when the rule holds.
TRANSLATED_CEL: dict[str, Callable[[Any], bool]] = {
    # karpenter.k8s.aws EC2NodeClass spec.amiSelectorTerms[].alias (v1.14.1)
    "self.matches('^[a-zA-Z0-9]+@.+$')": lambda s: re.search(r"^[a-zA-Z0-9]+@.+$", s) is not None,
    "self.split('@')[0] in ['al2','al2023','bottlerocket','windows2019','windows2022','windows2025']":
        lambda s: s.split("@")[0] in ("al2", "al2023", "bottlerocket", "windows2019", "windows2022", "windows2025"),
    # CEL errors on a missing [1]; an error rejects the object like a false rule.
    "self.split('@')[0] in ['windows2019','windows2022','windows2025'] ? self.split('@')[1] == 'latest' : true":
        lambda s: _alias_version(s) == "latest" if s.split("@")[0] in ("windows2019", "windows2022", "windows2025")
        else True,
    # Istio's CRDs (istio/istio 1.31 manifests/charts/base/files/crd-all.gen.yaml): every duration
    # field (DestinationRule connectTimeout, tcpKeepalive, outlier intervals, ...) and port numbers.
    "duration(self) >= duration('1ms')": lambda s: (_duration_ns(s) or 0) >= 1_000_000,
    "0 < self && self <= 65535": lambda n: 0 < n <= 65535,
    "self.all(l1, self.exists_one(l2, l1.number == l2.number))":
        lambda ports: all(sum(1 for q in ports if q.get("number") == p.get("number")) == 1 for p in ports),
    'self != "*"': lambda s: s != "*",
    # ServiceEntry spec
    "(has(self.workloadSelector) ? 1 : 0) + (has(self.endpoints) ? 1 : 0) <= 1":
        lambda spec: ("workloadSelector" in spec) + ("endpoints" in spec) <= 1,
    '!((has(self.addresses) ? self.addresses : []).exists(k, k.contains("/")) && '
    '!((has(self.resolution) ? self.resolution : "NONE") in ["STATIC", "NONE"]))':
        lambda spec: not (any("/" in a for a in spec.get("addresses", []))
                          and spec.get("resolution", "NONE") not in ("STATIC", "NONE")),
    '((has(self.resolution) ? self.resolution : "NONE") == "NONE") ? !has(self.endpoints) : true':
        lambda spec: "endpoints" not in spec if spec.get("resolution", "NONE") == "NONE" else True,
    '((has(self.resolution) ? self.resolution : "") == "DNS_ROUND_ROBIN") ? '
    '((has(self.endpoints) ? self.endpoints : []).size() <= 1) : true':
        lambda spec: len(spec.get("endpoints", [])) <= 1 if spec.get("resolution", "") == "DNS_ROUND_ROBIN" else True,
}

# A CEL duration string (the cel-spec's duration(): Go's time.ParseDuration syntax, e.g. "1.5s",
# "1h30m", units h m s ms us ns) in nanoseconds; None if it does not parse (CEL errors, and an
# error fails the rule).
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNIT = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 10 ** 9, "m": 60 * 10 ** 9,
                  "h": 3600 * 10 ** 9}


def _duration_ns(s: str) -> Optional[float]:
    if not isinstance(s, str):
        return None
    sign, body = (-1, s[1:]) if s.startswith("-") else (1, s.lstrip("+"))
    if body == "0":
        return 0
    parts = _DURATION_PART.findall(body)
    if not parts or "".join(n + u for n, u in parts) != body:
        return None
    return sign * sum(float(n) * _DURATION_UNIT[u] for n, u in parts)


@dataclass
class Kind:
    key: str                    # "group/version/Kind"
    source: str                 # named in findings
    validator: jsonschema.protocols.Validator
    crd_schema: Optional[dict] = None   # the CRD's own schema (CEL walk); None for built-in kinds


@dataclass
class CelCount:
    rules_in_schema: int = 0
    applied: int = 0            # rules on nodes present in the planned objects
    evaluated: int = 0          # of those, translated and run here
    objects: int = 0

    @property
    def skipped(self) -> int:
        return self.applied - self.evaluated


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    cel: dict[str, CelCount] = field(default_factory=dict)
    covered: dict[str, str] = field(default_factory=dict)   # urn -> kind key it was checked against
    k8s_versions: tuple[str, ...] = ()                      # Kubernetes versions whose schemas were used


# -- schemas ---------------------------------------------------------------------------------
def _minor(version: str) -> str:
    parts = re.findall(r"\d+", str(version))
    return ".".join(parts[:2]) if len(parts) >= 2 else str(version)


def _k8s_dir(k8s: str = K8S_VERSION) -> Path:
    import kubernetes_validate
    return (Path(kubernetes_validate.__file__).resolve().parent / "kubernetes-json-schema"
            / f"v{_minor(k8s)}.0-local-strict")


def plan_k8s_versions(doc: dict) -> dict[str, list[str]]:
    """Kubernetes minor ("1.35") -> URNs of the plan's clusters that run it."""
    out: dict[str, list[str]] = {}
    for urn, typ, inputs in resources(doc):
        version = inputs.get("version") if typ in CLUSTER_TYPES else None
        if version is not None and not _opaque(version):
            out.setdefault(_minor(str(version)), []).append(urn)
    return out


@functools.lru_cache(maxsize=None)
def _registry(k8s: str = K8S_VERSION) -> referencing.Registry:
    defs = json.loads((_k8s_dir(k8s) / "_definitions.json").read_text())
    return referencing.Registry().with_resource(_DEFS_ID, referencing.Resource.from_contents(defs))


def kubernetes_validate_version() -> str:
    from kubernetes_validate.version import __version__
    return __version__


def _builtin_file(group: str, version: str, kind: str, k8s: str = K8S_VERSION) -> Path:
    # kubernetes-validate's naming: "<kind>-<first label of group>-<version>.json"
    label = group.split(".")[0]
    return _k8s_dir(k8s) / (f"{kind.lower()}-{label}-{version}.json" if group else f"{kind.lower()}-{version}.json")


@functools.lru_cache(maxsize=None)
def _builtin(group: str, version: str, kind: str, k8s: str = K8S_VERSION) -> Optional[Kind]:
    path = _builtin_file(group, version, kind, k8s)
    if not path.exists():
        return None
    schema = json.loads(path.read_text())
    gvks = schema.get("x-kubernetes-group-version-kind") or []
    if {"group": group, "version": version, "kind": kind} not in gvks:
        return None     # same file name, another group (kubernetes-validate keys on the first label only)
    validator = jsonschema.Draft202012Validator(schema, registry=_registry(k8s))
    return Kind(f"{group}/{version}/{kind}",
                f"Kubernetes {_minor(k8s)} OpenAPI (kubernetes-validate {kubernetes_validate_version()}, strict)",
                validator)


def structural(node: dict, top: bool = False, in_logic: bool = False) -> dict:
    """A CRD openAPIV3Schema node as JSON Schema 2020-12, pruning made strict."""
    out: dict[str, Any] = {}
    nullable = node.get("nullable", False)
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"] + (["null"] if nullable else [])
    elif "type" in node:
        out["type"] = [node["type"], "null"] if nullable else node["type"]
    for kw in ("pattern", "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties",
               "maximum", "minimum", "multipleOf", "required", "uniqueItems"):
        if kw in node:
            out[kw] = node[kw]
    if "enum" in node:
        out["enum"] = list(node["enum"]) + ([None] if nullable else [])
    for kw in ("exclusiveMinimum", "exclusiveMaximum"):     # OpenAPI 3.0: a flag on minimum/maximum
        bound = "minimum" if kw == "exclusiveMinimum" else "maximum"
        if node.get(kw) is True and bound in node:
            out[kw] = out.pop(bound)
    if node.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    for kw in ("allOf", "anyOf", "oneOf"):
        if kw in node:
            out[kw] = [structural(s, in_logic=True) for s in node[kw]]
    if "not" in node:
        out["not"] = structural(node["not"], in_logic=True)
    if "items" in node:
        out["items"] = structural(node["items"], in_logic=in_logic)
    # inside allOf/anyOf/oneOf/not a structural schema only restricts what the main schema
    # declares, so nothing there may call a field unknown
    props = {k: structural(v, in_logic=in_logic) for k, v in (node.get("properties") or {}).items()}
    if top or node.get("x-kubernetes-embedded-resource"):
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props["metadata"] = OBJECT_META
    if props:
        out["properties"] = props
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        out["additionalProperties"] = structural(extra, in_logic=in_logic)
    elif extra is not None:
        out["additionalProperties"] = extra
    elif not in_logic and not node.get("x-kubernetes-preserve-unknown-fields") and (
            node.get("type") == "object" or props):
        out["additionalProperties"] = False     # the server prunes what the schema does not name
    return out


@functools.lru_cache(maxsize=None)
def _crd_kinds(k8s: str = K8S_VERSION) -> dict[str, Kind]:
    """The pinned CRDs' kinds; their metadata is checked as ObjectMeta of Kubernetes `k8s`."""
    kinds = {}
    for path in sorted(CRD_DIR.glob("*.json")):
        doc = json.loads(path.read_text())
        src = doc["source"]
        for key, entry in doc["kinds"].items():
            group, version, kind = key.split("/")
            schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **structural(entry["schema"], top=True)}
            validator = jsonschema.Draft202012Validator(schema, registry=_registry(k8s))
            kinds[key] = Kind(key, f"{group}/{version} {kind} CRD ({src['repository']} {src['tag']} {entry['file']})",
                              validator, entry["schema"])
    return kinds


# ConfigMaps whose data entries are each one JSON object of a custom kind's sub-schema:
# (namespace, name) -> (kind key, path of the sub-schema in that kind's schema).
# components/scaling.py writes platform-slo-triggers: one KEDA ScaledObject trigger per SLO
# (components/slo.py keda_trigger), which apps' ScaledObjects copy into spec.triggers[].
EMBEDDED = {
    ("keda", "platform-slo-triggers"): ("keda.sh/v1alpha1/ScaledObject", ("spec", "triggers", "items")),
}


@functools.lru_cache(maxsize=None)
def _embedded(key: str, sub: tuple[str, ...], k8s: str = K8S_VERSION) -> Kind:
    kind = _crd_kinds(k8s)[key]
    node = kind.crd_schema
    for part in sub:
        node = node[part] if part == "items" else node["properties"][part]
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **structural(node)}
    where = ".".join(p for p in sub if p != "items") + "[]"
    return Kind(key, kind.source.replace(" CRD", f" CRD {where}"),
                jsonschema.Draft202012Validator(schema, registry=_registry(k8s)), node)


def kind_for(api_version: str, kind: str, k8s: str = K8S_VERSION) -> Optional[Kind]:
    group, _, version = api_version.rpartition("/")
    return _crd_kinds(k8s).get(f"{group}/{version}/{kind}") or _builtin(group, version, kind, k8s)


# -- checking --------------------------------------------------------------------------------
def dotted(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _opaque(value: Any) -> bool:
    return isinstance(value, str) and value in OPAQUE


def _errors(kind: Kind, obj: dict, partial: bool = False) -> Iterator[tuple[str, str]]:
    """(path, message) of each schema error; unknown fields one by one. `partial`: a patch,
    whose missing required fields the live object supplies."""
    for err in kind.validator.iter_errors(obj):
        if _opaque(err.instance) or (partial and err.validator in ("required", "minItems", "minProperties")):
            continue
        if err.validator == "additionalProperties" and err.validator_value is False and isinstance(err.instance, dict):
            known = set(err.schema.get("properties") or {})
            pats = [re.compile(p) for p in err.schema.get("patternProperties") or {}]
            for key in sorted(err.instance):
                if key not in known and not any(p.search(key) for p in pats):
                    yield (dotted([*err.absolute_path, key]),
                           f"unknown field '{key}': not in the schema (the API server drops it, or rejects "
                           f"the object under strict field validation)")
            continue
        if err.validator in ("anyOf", "oneOf") and err.context:
            best = jsonschema.exceptions.best_match(err.context)
            yield dotted(err.absolute_path), f"{err.message} ({best.message})"
            continue
        yield dotted(err.absolute_path), err.message


def _cel_walk(schema: dict, inst: Any, path: list, count: CelCount, out: list[tuple[str, str]]) -> None:
    if _opaque(inst):
        return
    for rule in schema.get("x-kubernetes-validations") or []:
        count.applied += 1
        fn = TRANSLATED_CEL.get(rule.get("rule", ""))
        if fn is None:
            continue
        count.evaluated += 1
        try:
            ok = fn(inst)
        except (TypeError, AttributeError):     # wrong type: the schema check says so
            continue
        if not ok:
            out.append((dotted(path), f"rule {rule['rule']!r} fails: {rule.get('message', '')}"))
    if isinstance(inst, dict):
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for k, v in inst.items():
            sub = props.get(k) if k in props else (extra if isinstance(extra, dict) else None)
            if sub is not None:
                _cel_walk(sub, v, [*path, k], count, out)
    elif isinstance(inst, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(inst):
            _cel_walk(schema["items"], v, [*path, i], count, out)


def _count_rules(schema: Any) -> int:
    if isinstance(schema, dict):
        return len(schema.get("x-kubernetes-validations") or []) + sum(_count_rules(v) for v in schema.values())
    if isinstance(schema, list):
        return sum(_count_rules(v) for v in schema)
    return 0


def _gvk(typ: str, inputs: dict) -> tuple[str, str]:
    """apiVersion and kind: from the inputs, else from the Pulumi type (kubernetes:apps/v1:Deployment)."""
    token = typ.split(":", 1)[1] if ":" in typ else typ
    module, _, kind = token.partition(":")
    group, _, version = module.rpartition("/")
    api_version = version if group in ("core", "") else f"{group}/{version}"
    if kind.endswith("Patch"):
        kind = kind[:-len("Patch")]
    return inputs.get("apiVersion") or api_version, inputs.get("kind") or kind


def _versions(doc: dict, report: Report) -> tuple[str, ...]:
    """The Kubernetes versions to check against: the plan's clusters' (each one kubernetes-validate
    ships), else K8S_VERSION. A cluster version without schemas is a finding of its own."""
    usable = []
    for minor, urns in sorted(plan_k8s_versions(doc).items(), key=lambda kv: tuple(map(int, re.findall(r"\d+", kv[0])))):
        if (_k8s_dir(minor) / "_definitions.json").exists():
            usable.append(minor)
            continue
        for urn in urns:
            report.findings.append(Finding(NAME, urn, "version", (
                f"Kubernetes {minor}: kubernetes-validate {kubernetes_validate_version()} ships no schemas for it, "
                f"so this cluster's objects are not checked against its built-in kinds; upgrade kubernetes-validate")))
    return tuple(usable) or (_minor(K8S_VERSION),)


def analyse(doc: dict) -> Report:
    report = Report()
    report.k8s_versions = _versions(doc, report)
    for urn, typ, inputs in resources(doc):
        if not typ.startswith("kubernetes:") or NOT_OBJECTS.match(typ):
            continue
        seen: set[tuple[str, str]] = set()
        for k8s in report.k8s_versions:
            _analyse_object(report, urn, typ, inputs, k8s, seen, count_cel=k8s == report.k8s_versions[0])
    return report


def _analyse_object(report: Report, urn: str, typ: str, inputs: dict, k8s: str,
                    seen: set[tuple[str, str]], count_cel: bool) -> None:
    def add(path: str, message: str) -> None:
        if (path, message) not in seen:     # the same finding under two cluster versions: once
            seen.add((path, message))
            report.findings.append(Finding(NAME, urn, path, message))

    api_version, kind_name = _gvk(typ, inputs)
    kind = kind_for(api_version, kind_name, k8s)
    if kind is None:
        add("", (f"no schema for {api_version} {kind_name}: not a Kubernetes {_minor(k8s)} kind and no pinned CRD "
                 f"in tools/upstream/data/crds (add its source to tools/upstream/refresh_crds.py)"))
        return
    report.covered[urn] = kind.key
    obj = {"apiVersion": api_version, "kind": kind_name, **inputs}
    patch = typ.endswith("Patch")     # server-side-apply patches (ConfigMapPatch...): partial objects
    for path, message in _errors(kind, obj, partial=patch):
        add(path, f"{message} [{kind.source}]")
    meta = inputs.get("metadata") if isinstance(inputs.get("metadata"), dict) else {}
    target = EMBEDDED.get((meta.get("namespace", "default"), meta.get("name")))
    if kind_name == "ConfigMap" and target and isinstance(inputs.get("data"), dict):
        sub = _embedded(*target, k8s)
        for entry, text in sorted(inputs["data"].items()):
            if _opaque(text):
                continue
            try:
                value = json.loads(text)
            except (TypeError, ValueError):
                add(f"data.{entry}", f"not JSON; expected one {sub.source}")
                continue
            for path, message in _errors(sub, value):
                add(f"data.{entry}" + (f".{path}" if path else ""), f"{message} [{sub.source}]")
    if kind.crd_schema is not None and count_cel:
        count = report.cel.setdefault(kind.key, CelCount(rules_in_schema=_count_rules(kind.crd_schema)))
        count.objects += 1
        failed: list[tuple[str, str]] = []
        _cel_walk(kind.crd_schema, obj, [], count, failed)
        for path, message in failed:
            add(path, f"{message} [{kind.source}]")


def check(doc: dict) -> list[Finding]:
    return analyse(doc).findings


def main(argv: Optional[list[str]] = None) -> int:
    from tools.cli import Parser, quiet_on_closed_pipe
    from tools.plan_json import load_preview_json

    p = Parser(prog="python -m tools.upstream.kubernetes",
               description="Per custom kind: CEL rules in the CRD, applied to the plan, evaluated, skipped.")
    p.add_argument("--preview-json", type=Path, required=True, metavar="PATH")
    args = p.parse_args(argv)
    quiet_on_closed_pipe()
    report = analyse(load_preview_json(args.preview_json))
    print(f"{len(report.covered)} objects checked against Kubernetes {', '.join(report.k8s_versions)}, "
          f"{len(report.findings)} findings")
    for key, c in sorted(report.cel.items()):
        print(f"{key}: {c.objects} objects; CEL rules: {c.rules_in_schema} in schema, {c.applied} applied, "
              f"{c.evaluated} evaluated, {c.skipped} skipped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Terraform-plan JSON from a Pulumi preview, for scanners that read only Terraform plans.

    python -m tools.export_tfplan --preview-json PATH --out FILE [--report FILE]

Checkov, KICS, Trivy and Infracost read ``terraform show -json`` output; this writes that
layout from the ``pulumi preview --json`` layout (tools/preview.py): ``format_version``,
``planned_values.root_module.resources[]`` (address, mode, type, name, provider_name,
values), ``resource_changes[]`` (change: actions, before, after, after_unknown,
before_sensitive, after_sensitive) and ``configuration`` (provider_config per aws provider,
``root_module.resources[]`` with ``expressions``).

Names. A Pulumi type maps to its Terraform resource and a camelCase input to its Terraform
attribute through tools/tf_mapping/evidence.json (pulumi-aws's own bridge metadata and the
other sources SOURCES.md lists); the shape of each input (scalar, list, map, object) comes
from the installed pulumi_aws SDK's Args classes. Where evidence names no rename, the
Terraform name is the snake_case of the Pulumi name -- pulumi-terraform-bridge's rule -- and
the attribute is counted as ``rule`` in the report; a list whose Terraform name is not in
the evidence is counted ``unverified`` (the bridge may have pluralised a singular block).

Shapes. pulumi-aws flattens a Terraform block with MaxItems=1 into one object; a Terraform
plan holds it as a one-element list, so objects are exported as ``[{...}]`` (the
plugin-framework resources listed in evidence.json keep objects). Maps (tags, labels,
dimensions) keep their keys as they are. ``tags_all`` is the provider's default tags
merged with the resource's ``tags``.

References. An input whose Pulumi property dependency points at an exported resource is
what Terraform writes as ``attr = aws_x.y.id``: in a plan of new resources its value is
unknown. Such a scalar (or list of scalars) is exported unknown (``after_unknown``, absent
from ``values``) with ``references: ["aws_x.y.id", "aws_x.y"]`` in ``configuration``, which
is how Checkov's graph checks connect a flow log to its VPC or a key to what uses it. A
composite value (a JSON policy document, an object) keeps its value and also lists its
references. Values that depend only on skipped resources (pulumi-eks, Kubernetes) keep
their preview value. Secrets (``[secret]``) and unknowns are never written: they are
unknown (``after_unknown``) and, for secrets, ``after_sensitive``.

Skipped. Kubernetes resources, pulumi-eks components (``eks:*``), the project's component
resources, providers and the stack are not Terraform resources; the summary line counts
them. Exit 0 on success, 2 on bad input or an AWS type without a mapping (listed).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import re
import sys
import typing
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from tools.cli import Parser, quiet_on_closed_pipe
from tools.offline import OfflineError
from tools.plan_json import load_preview_json

MAPPING_DIR = Path(__file__).resolve().parent / "tf_mapping"
EVIDENCE_PATH = MAPPING_DIR / "evidence.json"
PROVIDER_NAME = "registry.terraform.io/hashicorp/aws"
FORMAT_VERSION = "1.2"
TERRAFORM_VERSION = "1.9.8"

SECRET_PLACEHOLDER = "[secret]"
UNKNOWN_SENTINEL = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # pulumi UnknownStringValue
SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

OPS_TO_ACTIONS = {
    "create": ["create"], "update": ["update"], "same": ["no-op"], "delete": ["delete"],
    "replace": ["delete", "create"], "create-replacement": ["delete", "create"],
    "read": ["read"],
}


class ExportError(Exception):
    """Bad input: one clear message, nothing written."""


class _Unknown:
    """A value the plan cannot know (unknown output or secret)."""

    def __init__(self, secret: bool) -> None:
        self.secret = secret


# -- names ---------------------------------------------------------------------------------
def snake(name: str) -> str:
    """pulumi-terraform-bridge's inverse of its TF -> Pulumi camelCase (no pluralisation)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _tf_identifier(name: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_-]", "_", name)
    if not re.match(r"[A-Za-z_]", out):
        out = "r_" + out
    return out


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _urn_type(urn: str) -> str:
    return urn.rsplit("::", 2)[-2].rsplit("$", 1)[-1]


# -- mapping: evidence + installed SDK -----------------------------------------------------
@dataclass
class Prop:
    tf: str
    shape: str          # scalar | list | map | object | list_object | map_object
    type_token: Optional[str]
    src: str            # metadata | metadata-identity | tfdocs | sdkdoc | sibling | rule | unverified | unmapped


class Mapping:
    """Pulumi token -> Terraform type, and per (type, camel name) -> Prop, resolved lazily."""

    def __init__(self, evidence_path: Path = EVIDENCE_PATH) -> None:
        ev = json.loads(Path(evidence_path).read_text())
        self.resources: dict[str, str] = {t: v[0] for t, v in ev["resources"].items()}
        self.framework: set[str] = set(ev.get("framework", {}).get("tokens", []))
        self.types: dict[str, dict] = ev.get("types", {})
        self.extra: dict[str, dict] = ev.get("extra", {})
        self._props: dict[str, dict[str, Prop]] = {}

    def tf_type(self, token: str) -> Optional[str]:
        return self.resources.get(token)

    # SDK shapes
    @staticmethod
    def _module(token: str):
        mod = token.split(":")[1].split("/")[0]
        return importlib.import_module(f"pulumi_aws.{mod}")

    @staticmethod
    def _shape(annotation: Any) -> tuple[str, Optional[str]]:
        """(shape, Args class name) of a pulumi Input annotation."""
        def core(t: Any) -> list[Any]:
            origin = typing.get_origin(t)
            if origin is typing.Union:
                out = []
                for a in typing.get_args(t):
                    if a is type(None):
                        continue
                    if isinstance(a, typing.ForwardRef) and a.__forward_arg__.startswith("Output"):
                        continue
                    o = typing.get_origin(a)
                    if o is not None and getattr(o, "__name__", "") == "Awaitable":
                        continue
                    out.extend(core(a))
                return out
            return [t]

        cands = core(annotation)
        for c in cands:
            origin = typing.get_origin(c)
            name = getattr(origin, "__name__", "")
            if name == "Sequence":
                inner, cls = Mapping._shape(typing.get_args(c)[0])
                return ("list_object" if inner == "object" else "list"), cls
            if name == "Mapping":
                inner, cls = Mapping._shape(typing.get_args(c)[1])
                return ("map_object" if inner == "object" else "map"), cls
        for c in cands:
            if isinstance(c, typing.ForwardRef) and c.__forward_arg__.endswith("Args"):
                return "object", c.__forward_arg__
        return "scalar", None

    def props(self, token: str) -> dict[str, Prop]:
        """camelCase name -> Prop for a resource or nested type token."""
        if token in self._props:
            return self._props[token]
        module = self._module(token)
        cls_name = token.rsplit(":", 1)[1] + "Args"
        # A resource (its token's middle part is lower camel) whose `<Name>Args` name is taken by a
        # nested type of the package gets `<Name>InitArgs` (pulumi_aws 7 s3: BucketVersioningArgs
        # is Bucket.versioning's type; the BucketVersioning resource's inputs are ...InitArgs).
        resource = token.split(":")[1].split("/")[1][:1].islower()
        init = getattr(module, token.rsplit(":", 1)[1] + "InitArgs", None) if resource else None
        cls = init or getattr(module, cls_name)
        mod_name = token.split(":")[1].split("/")[0]
        ev = self.types.get(token, {})
        renames, identity = ev.get("renames", {}), set(ev.get("identity", []))
        extra = self.extra.get(token, {})
        out: dict[str, Prop] = {}
        for attr in vars(cls).values():
            if not isinstance(attr, property) or attr.fget is None:
                continue
            camel = getattr(attr.fget, "_pulumi_name", None)
            if not camel:
                continue
            shape, args_cls = self._shape(attr.fget.__annotations__.get("return"))
            nested = None
            if args_cls:
                base = args_cls[: -len("Args")]
                nested = f"aws:{mod_name}/{base}:{base}"
            if camel in extra:
                tf, cite = extra[camel]
                src = cite.split()[0]
            elif camel in renames:
                tf, src = renames[camel], "metadata"
            elif camel in identity:
                tf, src = camel, "metadata-identity"
            elif camel == "tagsAll":
                tf, src = "tags_all", "metadata"
            else:
                tf = snake(camel)
                src = "unverified" if shape.startswith("list") else "rule"
            out[camel] = Prop(tf, shape, nested, src)
        self._props[token] = out
        return out


# -- conversion ----------------------------------------------------------------------------
def _classify(value: Any) -> Any:
    """Replace secrets/unknowns by _Unknown markers, recursively."""
    if isinstance(value, str):
        if value == SECRET_PLACEHOLDER:
            return _Unknown(secret=True)
        if value == UNKNOWN_SENTINEL:
            return _Unknown(secret=False)
        return value
    if isinstance(value, dict):
        if value.get(SIG_KEY) == SECRET_SIG:
            return _Unknown(secret=True)
        if SIG_KEY in value:  # other signatures (resource refs, assets): not plan values
            return _Unknown(secret=False)
        return {k: _classify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_classify(v) for v in value]
    return value


@dataclass
class Converted:
    """One attribute: known value (or None), unknown/sensitive mirrors, expression."""
    value: Any = None
    known: bool = True
    unknown: Any = None     # after_unknown mirror (True / nested) or None
    sensitive: Any = None   # after_sensitive mirror or None
    expr: Any = None        # configuration expression


@dataclass
class Stats:
    src: Counter = field(default_factory=Counter)
    unverified: set = field(default_factory=set)
    unmapped_keys: set = field(default_factory=set)


class Converter:
    def __init__(self, mapping: Mapping, stats: Stats) -> None:
        self.mapping = mapping
        self.stats = stats

    def obj(self, token: str, inputs: dict, framework: bool, path: str) -> Converted:
        props = self.mapping.props(token)
        values, unknown, sensitive, expr = {}, {}, {}, {}
        for camel in sorted(inputs):
            if camel.startswith("__"):
                continue
            prop = props.get(camel)
            if prop is None:
                prop = Prop(snake(camel), "scalar", None, "unmapped")
                self.stats.unmapped_keys.add(f"{token}.{camel}")
            self.stats.src[prop.src] += 1
            if prop.src == "unverified":
                self.stats.unverified.add(f"{token}.{camel} -> {prop.tf}")
            c = self.value(prop, inputs[camel], framework, f"{path}.{prop.tf}")
            if c.known:
                values[prop.tf] = c.value
            if c.unknown is not None:
                unknown[prop.tf] = c.unknown
            if c.sensitive is not None:
                sensitive[prop.tf] = c.sensitive
            expr[prop.tf] = c.expr
        return Converted(values, True, unknown or None, sensitive or None, expr)

    def value(self, prop: Prop, raw: Any, framework: bool, path: str) -> Converted:
        if isinstance(raw, _Unknown):
            return Converted(None, False, True, True if raw.secret else None, {})
        shape = prop.shape
        if raw is None:
            return Converted(None, True, None, None, {"constant_value": None})
        if shape == "object" and isinstance(raw, dict):
            inner = self.obj(prop.type_token, raw, framework, path)
            if framework:
                return Converted(inner.value, True, inner.unknown, inner.sensitive, inner.expr)
            return Converted([inner.value], True, [inner.unknown] if inner.unknown else None,
                             [inner.sensitive] if inner.sensitive else None, [inner.expr])
        if shape == "list_object" and isinstance(raw, list):
            bad = next((v for v in raw if isinstance(v, _Unknown)), None)
            if bad is not None:
                return Converted(None, False, True, True if bad.secret else None, {})
            items = [self.obj(prop.type_token, v, framework, path) if isinstance(v, dict)
                     else Converted(v, True, None, None, {"constant_value": v}) for v in raw]
            unk = [i.unknown or False for i in items]
            sen = [i.sensitive or False for i in items]
            return Converted([i.value for i in items], True,
                             unk if any(unk) else None, sen if any(sen) else None,
                             [i.expr for i in items])
        if shape == "map_object" and isinstance(raw, dict):
            items = {k: self.obj(prop.type_token, v, framework, path) for k, v in raw.items()
                     if isinstance(v, dict)}
            return Converted({k: i.value for k, i in items.items()}, True, None, None,
                             {"constant_value": {k: i.value for k, i in items.items()}})
        # scalar, list, map (and shapes that do not match the SDK: passed through)
        bad = _find_unknown(raw)
        if bad is not None:
            # a collection holding an unknown/secret element is unknown as a whole
            return Converted(None, False, True, True if bad.secret else None, {})
        return Converted(raw, True, None, None, {"constant_value": raw})


def _find_unknown(v: Any) -> Optional[_Unknown]:
    if isinstance(v, _Unknown):
        return v
    if isinstance(v, dict):
        for x in v.values():
            u = _find_unknown(x)
            if u:
                return u
    if isinstance(v, list):
        for x in v:
            u = _find_unknown(x)
            if u:
                return u
    return None


# -- export --------------------------------------------------------------------------------
@dataclass
class Exported:
    urn: str
    token: str
    tf_type: str
    name: str
    op: str
    state: dict

    @property
    def address(self) -> str:
        return f"{self.tf_type}.{self.name}"


def _skip_reason(state: dict) -> Optional[str]:
    typ = state.get("type", "")
    if typ == "pulumi:pulumi:Stack":
        return "stack"
    if typ.startswith("pulumi:providers:"):
        return "providers"
    if typ.startswith("kubernetes:"):
        return "kubernetes"
    if typ.startswith("eks:"):
        return "pulumi-eks"
    if not state.get("custom", True):
        return "components"
    if not typ.startswith("aws:"):
        return "other"
    return None


def _attr_suffix(value: Any, dep_state: dict) -> str:
    v = value[0] if isinstance(value, list) and value else value
    if isinstance(v, str) and v.startswith("arn:"):
        return "arn"
    dep_inputs = dep_state.get("inputs", {})
    if isinstance(v, str) and v and v == dep_inputs.get("name"):
        return "name"
    return "id"


def _is_document(value: Any) -> bool:
    return isinstance(value, str) and value.lstrip()[:1] in ("{", "[")


def _merge_tags(default_tags: dict, tags: Any) -> Any:
    if not isinstance(tags, dict):
        return tags if not default_tags else dict(default_tags)
    merged = dict(default_tags)
    merged.update(tags)
    return merged


def _default_tags(provider_inputs: dict) -> dict:
    raw = provider_inputs.get("defaultTags")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            return {}
    if isinstance(raw, dict) and isinstance(raw.get("tags"), dict):
        return {k: v for k, v in raw["tags"].items() if isinstance(v, str)}
    return {}


def export(preview: dict, mapping: Optional[Mapping] = None) -> tuple[dict, dict]:
    """(Terraform plan JSON, report) for a preview document. Raises ExportError."""
    mapping = mapping or Mapping()
    steps = preview.get("steps")
    if not isinstance(steps, list):
        raise ExportError("preview JSON has no 'steps' list (expected `pulumi preview --json` output)")

    states: dict[str, tuple[str, dict]] = {}
    for i, step in enumerate(steps):
        op = step.get("op", "create")
        state = step.get("newState") if op != "delete" else step.get("oldState")
        if not isinstance(state, dict) or not isinstance(state.get("urn"), str):
            raise ExportError(f"steps[{i}] has no newState/oldState with a 'urn'")
        states[state["urn"]] = (op, state)

    skipped: Counter = Counter()
    unmapped: Counter = Counter()
    providers: dict[str, dict] = {}  # provider urn -> {alias, inputs}
    candidates: list[tuple[str, str, dict]] = []
    for urn in sorted(states):
        op, state = states[urn]
        reason = _skip_reason(state)
        if reason == "providers" and state.get("type") == "pulumi:providers:aws":
            alias = _tf_identifier(_urn_name(urn))
            if any(p["alias"] == alias for p in providers.values()):
                alias = f"{alias}_{hashlib.sha1(urn.encode()).hexdigest()[:8]}"
            providers[urn] = {"alias": alias, "inputs": state.get("inputs", {})}
        if reason:
            skipped[reason] += 1
            continue
        if mapping.tf_type(state["type"]) is None:
            unmapped[state["type"]] += 1
            continue
        candidates.append((urn, op, state))
    if unmapped:
        raise ExportError("AWS types without a Terraform mapping (add them to tools/tf_mapping/evidence.json"
                          " with their evidence): " + ", ".join(f"{t} ({n})" for t, n in sorted(unmapped.items())))

    # addresses: unique per (type, name), deterministic (sorted URNs)
    exported: dict[str, Exported] = {}
    taken: set[str] = set()
    for urn, op, state in candidates:
        tf_type = mapping.tf_type(state["type"])
        name = _tf_identifier(_urn_name(urn))
        if f"{tf_type}.{name}" in taken:
            name = f"{name}_{hashlib.sha1(urn.encode()).hexdigest()[:8]}"
        taken.add(f"{tf_type}.{name}")
        exported[urn] = Exported(urn, state["type"], tf_type, name, op, state)

    stats = Stats()
    conv = Converter(mapping, stats)
    planned, changes, conf_resources = [], [], []
    refs_total = 0
    for urn in sorted(exported, key=lambda u: exported[u].address):
        ex = exported[urn]
        state = ex.state
        inputs = _classify(state.get("inputs") or {})
        framework = ex.token in mapping.framework
        c = conv.obj(ex.token, inputs, framework, ex.address)
        values, unknown = dict(c.value), dict(c.unknown or {})
        sensitive, expr = dict(c.sensitive or {}), dict(c.expr)
        props = mapping.props(ex.token)
        prov_urn = (state.get("provider") or "").rsplit("::", 1)[0]
        prov = providers.get(prov_urn)

        # tags_all = provider default tags + tags (Terraform computes it the same way)
        # (the Args classes carry `tags`; `tagsAll` is an output every taggable resource has)
        defaults = _default_tags(prov["inputs"]) if prov else {}
        if "tags" in props and ("tags" in values or defaults):
            values["tags_all"] = _merge_tags(defaults, values.get("tags"))
            unknown.pop("tags_all", None)

        # references from the Pulumi property dependencies
        depends_on, referenced = set(), set()
        prop_deps = state.get("propertyDependencies") or {}
        for camel, dep_urns in sorted(prop_deps.items()):
            targets = [exported[d] for d in dep_urns or [] if d in exported and d != urn]
            if not targets or camel not in inputs:
                continue
            prop = props.get(camel) or Prop(snake(camel), "scalar", None, "unmapped")
            raw = inputs[camel]
            refs: list[str] = []
            for t in sorted(targets, key=lambda t: t.address):
                suffix = _attr_suffix(raw, t.state)
                refs += [f"{t.address}.{suffix}", t.address]
            refs_total += 1
            referenced.update(t.address for t in targets)
            scalarish = prop.shape in ("scalar", "list") and not _is_document(raw) and not isinstance(raw, dict)
            if scalarish or isinstance(raw, _Unknown):
                values.pop(prop.tf, None)
                unknown[prop.tf] = True
                expr[prop.tf] = {"references": refs}
            else:
                e = expr.get(prop.tf)
                if isinstance(e, dict):
                    expr[prop.tf] = {**e, "references": refs}
                else:  # a nested block: Terraform would reference inside it; keep the edge
                    depends_on.update(t.address for t in targets)
                    referenced.difference_update(t.address for t in targets)
        for dep in state.get("dependencies") or []:
            if dep in exported and dep != urn:
                depends_on.add(exported[dep].address)
        depends_on -= referenced

        sensitive_values = _sensitive_values(sensitive)
        planned.append({
            "address": ex.address, "mode": "managed", "type": ex.tf_type, "name": ex.name,
            "provider_name": PROVIDER_NAME, "schema_version": 0,
            "values": values, "sensitive_values": sensitive_values,
        })
        actions = OPS_TO_ACTIONS.get(ex.op, ["create"])
        before = None
        if ex.op not in ("create",) and isinstance(states[urn][1], dict):
            old = next((s.get("oldState") for s in steps if (s.get("oldState") or {}).get("urn") == urn), None)
            if isinstance(old, dict):
                before = conv.obj(ex.token, _classify(old.get("inputs") or {}), framework, ex.address).value
        changes.append({
            "address": ex.address, "mode": "managed", "type": ex.tf_type, "name": ex.name,
            "provider_name": PROVIDER_NAME,
            "change": {
                "actions": actions,
                "before": before,
                "after": values if actions != ["delete"] else None,
                "after_unknown": unknown,
                "before_sensitive": False if before is None else {},
                "after_sensitive": sensitive_values,
            },
        })
        entry = {
            "address": ex.address, "mode": "managed", "type": ex.tf_type, "name": ex.name,
            "provider_config_key": f"aws.{prov['alias']}" if prov else "aws",
            "expressions": {k: v for k, v in sorted(expr.items()) if v},
            "schema_version": 0,
        }
        if depends_on:
            entry["depends_on"] = sorted(depends_on)
        conf_resources.append(entry)

    provider_config = {"aws": {"name": "aws", "full_name": PROVIDER_NAME}}
    for p in sorted(providers.values(), key=lambda p: p["alias"]):
        pc = {"name": "aws", "full_name": PROVIDER_NAME, "alias": p["alias"], "expressions": {}}
        region = p["inputs"].get("region")
        if isinstance(region, str):
            pc["expressions"]["region"] = {"constant_value": region}
        provider_config[f"aws.{p['alias']}"] = pc

    plan = {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {"provider_config": provider_config, "root_module": {"resources": conf_resources}},
        "applyable": True,
        "complete": True,
        "errored": False,
    }
    report = {
        "exported": len(exported),
        "tf_types": len({e.tf_type for e in exported.values()}),
        "skipped": dict(sorted(skipped.items())),
        "references": refs_total,
        "attribute_sources": dict(sorted(stats.src.items())),
        "unverified": sorted(stats.unverified),
        "unmapped_keys": sorted(stats.unmapped_keys),
    }
    return plan, report


def _sensitive_values(sensitive: dict) -> dict:
    return {k: v for k, v in sensitive.items() if v}


def summary_line(report: dict) -> str:
    sk = report["skipped"]
    skipped = ", ".join(f"{k} {v}" for k, v in sk.items()) or "none"
    src = report["attribute_sources"]
    return (f"exported {report['exported']} AWS resources ({report['tf_types']} Terraform types), "
            f"{report['references']} references; skipped (not Terraform resources): {skipped}; "
            f"attribute names: {', '.join(f'{k} {v}' for k, v in src.items())}"
            + (f"; UNVERIFIED {len(report['unverified'])}" if report["unverified"] else ""))


def parse_args(argv: Optional[list[str]]) -> argparse.Namespace:
    p = Parser(prog="python -m tools.export_tfplan", description=__doc__.splitlines()[0])
    p.add_argument("--preview-json", type=Path, required=True, metavar="PATH",
                   help="`pulumi preview --json` output (tools.preview --json)")
    p.add_argument("--out", type=Path, required=True, metavar="FILE", help="Terraform-plan JSON to write")
    p.add_argument("--report", type=Path, metavar="FILE", help="also write the export report (JSON)")
    return p.parse_args(argv)


def main(argv: Optional[list[str]] = None) -> int:
    quiet_on_closed_pipe()
    args = parse_args(argv)
    try:
        plan, report = export(load_preview_json(args.preview_json))
    except (ExportError, OfflineError) as err:
        print(f"export_tfplan: {err}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(plan, indent=1, sort_keys=True) + "\n")
    if args.report:
        args.report.write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
    print(summary_line(report))
    for item in report["unverified"]:
        print(f"  unverified name: {item}")
    for item in report["unmapped_keys"]:
        print(f"  input not in the SDK schema (snake_case used): {item}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

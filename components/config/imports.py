"""`imports`: adopt existing infrastructure instead of creating it.

Keys are the program's logical resource names (the last part of a URN, e.g. `apne2-vpc`,
`apne2-workers-a`, `apne2-tgw`; `python -m tools.preview STACK` lists them, and
`python -m tools.adopt` writes the section). A value is the existing resource's import id
(`apne2-vpc: vpc-0abc...`) or `{id, type, existing}`: `type` picks the Pulumi type token when the
name is registered with more than one type whose id form fits, or when the id has no prefix
(EKS clusters, DB subnet groups are imported by name); `existing` records what the resource has
today, as Pulumi input names (`cidrBlock`, `availabilityZone`, `tags`...), so the readiness rule
`import-inputs-match` can say, before `pulumi up`, which inputs differ (and whether a difference
would replace the adopted resource right after importing it).

The import is applied by one stack transform (components/imports.py) that sets Pulumi's
`import` resource option on the resource with that name and type; `protect` stays what the
program says (prod keeps its protected resources protected).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Optional, Union

from pydantic import BeforeValidator, Field, field_validator

from .base import _Model, doc
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# EC2 resource ids: a prefix, a hyphen and 8 (older) or 17 (longer ids, the default since
# 2018) lower-case hex characters. Source: AWS EC2 User Guide, "Resource IDs" (checked
# 2026-11-26); botocore's ec2 model types these ids as plain `String` without a pattern
# (botocore data/ec2/2016-11-15 VpcId, SubnetId, ...), so the form comes from the guide. The
# import id each Pulumi type takes is from the `## Import` section of pulumi_aws 7.51.1
# (e.g. pulumi_aws/ec2/vpc.py: "import VPCs using the VPC `id`", eip.py: "Allocation ID").
def _ec2(prefix: str) -> str:
    return rf"^{prefix}-[0-9a-f]{{8}}([0-9a-f]{{9}})?$"


# Names: EKS ClusterName, botocore eks 2017-11-01 (min 1, max 100, ^[0-9A-Za-z][A-Za-z0-9\-_]*);
# DB subnet group name: RDS CreateDBSubnetGroup docs, "no more than 255 letters, numbers,
# periods, underscores, spaces, or hyphens" (pulumi_aws rds/subnet_group.py: imported by name,
# lower-cased by the provider).
EKS_CLUSTER_NAME = r"^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$"
DB_SUBNET_GROUP_NAME = r"^[a-z0-9][a-z0-9._ -]{0,254}$"

ID_FORMS: dict[str, tuple[str, str]] = {
    # type token -> (regex, what the message calls it)
    "aws:ec2/vpc:Vpc": (_ec2("vpc"), "vpc-<8 or 17 hex>"),
    "aws:ec2/subnet:Subnet": (_ec2("subnet"), "subnet-<8 or 17 hex>"),
    "aws:ec2/routeTable:RouteTable": (_ec2("rtb"), "rtb-<8 or 17 hex>"),
    "aws:ec2/internetGateway:InternetGateway": (_ec2("igw"), "igw-<8 or 17 hex>"),
    "aws:ec2/natGateway:NatGateway": (_ec2("nat"), "nat-<8 or 17 hex>"),
    "aws:ec2/eip:Eip": (_ec2("eipalloc"), "eipalloc-<8 or 17 hex> (the allocation id)"),
    "aws:ec2/securityGroup:SecurityGroup": (_ec2("sg"), "sg-<8 or 17 hex>"),
    "aws:ec2/vpcEndpoint:VpcEndpoint": (_ec2("vpce"), "vpce-<8 or 17 hex>"),
    "aws:ec2/flowLog:FlowLog": (_ec2("fl"), "fl-<8 or 17 hex>"),
    "aws:ec2/customerGateway:CustomerGateway": (_ec2("cgw"), "cgw-<8 or 17 hex>"),
    "aws:ec2/vpnConnection:VpnConnection": (_ec2("vpn"), "vpn-<8 or 17 hex>"),
    "aws:ec2transitgateway/transitGateway:TransitGateway": (_ec2("tgw"), "tgw-<8 or 17 hex>"),
    "aws:ec2transitgateway/routeTable:RouteTable": (_ec2("tgw-rtb"), "tgw-rtb-<8 or 17 hex>"),
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": (_ec2("tgw-attach"), "tgw-attach-<8 or 17 hex>"),
    "aws:ec2transitgateway/peeringAttachment:PeeringAttachment": (_ec2("tgw-attach"), "tgw-attach-<8 or 17 hex>"),
    "aws:ec2transitgateway/peeringAttachmentAccepter:PeeringAttachmentAccepter": (
        _ec2("tgw-attach"), "tgw-attach-<8 or 17 hex>"),
    "aws:eks/cluster:Cluster": (EKS_CLUSTER_NAME, "an EKS cluster name (1-100 letters, digits, - and _)"),
    "aws:rds/subnetGroup:SubnetGroup": (DB_SUBNET_GROUP_NAME, "a DB subnet group name (lower case)"),
}
# Types whose id carries no prefix: the entry must name its `type`.
NAME_FORMS = frozenset({"aws:eks/cluster:Cluster", "aws:rds/subnetGroup:SubnetGroup"})


def types_for_id(rid: str) -> list[str]:
    """The type tokens whose id form this id has (prefixed forms only)."""
    return sorted(t for t, (rx, _) in ID_FORMS.items() if t not in NAME_FORMS and re.match(rx, rid))


class ImportSpec(_Model):
    id: str = Field(min_length=1, description="the existing resource's import id (`vpc-...`, `subnet-...`, an EKS "
                                              "cluster's name, ...)")
    type: Optional[str] = Field(
        None, description="the Pulumi type token to import as; needed only when the id has no prefix (EKS "
                          "cluster, DB subnet group) or the name is registered with two types the id fits",
        json_schema_extra=doc(default="from the id's prefix"))
    existing: dict[str, Any] = Field(
        default_factory=dict,
        description="what the existing resource has, as Pulumi input names (`cidrBlock`, `availabilityZone`, "
                    "`tags`, ...): the readiness rule `import-inputs-match` flags every input the program sets "
                    "differently (`pulumi up` would refuse the import)")

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value not in ID_FORMS:
            raise ValueError(f"'{value}' cannot be imported here; types with a known id form: "
                             + ", ".join(sorted(ID_FORMS)))
        return value

    def types(self) -> list[str]:
        """The types this entry may import as (one when `type` is given)."""
        return [self.type] if self.type else types_for_id(self.id)


def _short_form(value: Any) -> Any:
    """`name: id` is `name: {id: id}` (one model, so a bad entry gets one message, not one per form)."""
    return {"id": value} if isinstance(value, str) else value


ImportEntry = Annotated[ImportSpec, BeforeValidator(_short_form)]


def normalise(entry: Union[str, ImportSpec]) -> ImportSpec:
    return ImportSpec(id=entry) if isinstance(entry, str) else entry


def entries(cfg: StackConfig) -> dict[str, ImportSpec]:
    return {name: normalise(e) for name, e in sorted((cfg.imports or {}).items())}


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Id forms, one id per logical resource, names of this stack's regions. Whether the program
    registers the name at all is known only once it has run: the offline preview reports that
    (an error naming the key), a real `pulumi up` cannot (the transform sees only what exists)."""
    from ..naming import region_short_code

    out: list[ConfigIssue] = []
    codes = {region_short_code(r.name) for r in cfg.regions}
    seen: dict[tuple[str, str], str] = {}
    for name, spec in entries(cfg).items():
        key = f"imports.{name}"
        if name.split("-", 1)[0] not in codes:
            out.append(ConfigIssue(key, f"'{name}' is not a name this stack registers: every resource name starts "
                                        f"with its region's short code ({', '.join(sorted(codes))}); "
                                        "`python -m tools.preview` lists the names"))
            continue
        if spec.type:
            rx, form = ID_FORMS[spec.type]
            if not re.match(rx, spec.id):
                out.append(ConfigIssue(key, f"'{spec.id}' is not an import id of {spec.type}: expected {form}"))
                continue
        elif not spec.types():
            forms = sorted({form for t, (_, form) in ID_FORMS.items() if t not in NAME_FORMS})
            out.append(ConfigIssue(key, f"'{spec.id}' has no known id form ({', '.join(forms)}); for an EKS "
                                        "cluster or DB subnet group give `{id: <name>, type: <type token>}`"))
            continue
        family = spec.type or spec.types()[0]
        family = "tgw-attach" if "tgw-attach" in ID_FORMS[family][1] else family
        other = seen.get((family, spec.id))
        if other is not None:
            out.append(ConfigIssue(key, f"'{spec.id}' is already imported by imports.{other}: one existing "
                                        "resource can be adopted by one logical resource only"))
        else:
            seen[(family, spec.id)] = name
    return out

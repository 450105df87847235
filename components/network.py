"""Regional network: one VPC per region built from a finished address plan.

The component takes typed arguments only (never reads config): the region's context,
its VPC plan, the NAT strategy, egress mode, endpoints and the logs KMS key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import pulumi
import pulumi_aws as aws

from .ipam import AZ_LETTERS, VpcPlan
from .iam import document, service_trust
from .naming import RegionContext
from .stack import StackSpec
from .wiring import RegionWiring

GATEWAY_ENDPOINTS = ("s3", "dynamodb")


@dataclass(frozen=True, kw_only=True)
class NetworkArgs:
    ctx: RegionContext
    plan: VpcPlan
    az_count: int
    nat_mode: str  # "single" | "perAz" | "none"
    egress: str  # "nat" | "proxy"
    interface_endpoints: tuple[str, ...] = ()
    database_tier: bool = False
    flow_log_retention_days: int = 90
    logs_kms_key_arn: Optional[pulumi.Input[str]] = None
    protect_stateful: bool = False
    worker_subnet_tags: dict = field(default_factory=dict)  # e.g. Karpenter's discovery tag

    @property
    def internet(self) -> bool:
        return self.egress == "nat"


def network_args(spec: StackSpec, w: RegionWiring) -> NetworkArgs:
    """The regional network of the stack's config, on this region's address plan and logs key."""
    cfg = spec.config
    return NetworkArgs(
        ctx=w.ctx, plan=spec.plan[w.ctx.region], az_count=cfg.network.az_count, nat_mode=cfg.nat_mode,
        egress=cfg.network.egress, interface_endpoints=cfg.interface_endpoints,
        database_tier=cfg.network.database_tier, flow_log_retention_days=cfg.network.flow_log_retention_days,
        logs_kms_key_arn=w.logs_key.arn, protect_stateful=cfg.environment == "prod",
        # Karpenter finds the worker subnets by this tag.
        worker_subnet_tags=({"karpenter.sh/discovery": f"{cfg.environment}-{w.ctx.code}"}
                            if cfg.scaling and cfg.scaling.node_autoscaler == "karpenter" else {}),
    )


def _pick_zone(region: str, names: list[str], index: int, wanted: int) -> str:
    if len(names) < wanted:
        raise pulumi.RunError(
            f"global-platform:network.azCount: {region} offers {len(names)} availability zones "
            f"({', '.join(names)}), fewer than azCount {wanted}")
    return sorted(names)[index]


class RegionalNetwork(pulumi.ComponentResource):
    """VPC, subnet tiers, routing, NAT/IGW (or none), flow logs, endpoints, DB subnet group."""

    def __init__(self, name: str, args: NetworkArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:network:RegionalNetwork", name, None, opts)
        ctx, plan = args.ctx, args.plan
        self._worker_tags = dict(args.worker_subnet_tags)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect_stateful)

        self.vpc = aws.ec2.Vpc(
            ctx.name("vpc"),
            cidr_block=str(plan.cidr),
            # Both are required for private EKS endpoints and interface endpoint private DNS.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=ctx.tags("vpc"),
            opts=stateful,
        )

        # AZ names come from the region itself; opt-in local/wavelength zones are excluded and
        # no state filter is applied, so a zone's temporary impairment never re-maps subnets.
        zones = aws.get_availability_zones_output(
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOutputOptions(parent=self),
        )
        self.az_names = [zones.names.apply(lambda names, i=i: _pick_zone(ctx.region, names, i, args.az_count))
                         for i in range(args.az_count)]

        tiers = ["workers", "public", "endpoints"] + (["database"] if args.database_tier else [])
        self.subnets: dict[str, list[aws.ec2.Subnet]] = {}
        for tier in tiers:
            self.subnets[tier] = [
                aws.ec2.Subnet(
                    ctx.name(tier, s.az_letter),
                    vpc_id=self.vpc.id,
                    cidr_block=str(s.cidr),
                    availability_zone=self.az_names[s.az_index],
                    map_public_ip_on_launch=False,  # nothing gets a public IP by accident
                    tags=ctx.tags(f"{tier}-{s.az_letter}", {"tier": tier, **self._tier_tags(tier)}),
                    opts=child,
                )
                for s in plan.tier(tier, args.az_count)
            ]

        # The default SG is managed with no rules, so nothing can fall back on it.
        aws.ec2.DefaultSecurityGroup(
            ctx.name("default-sg"), vpc_id=self.vpc.id, ingress=[], egress=[],
            tags=ctx.tags("default-sg-locked"), opts=child,
        )

        self._routing(args)
        self._flow_logs(args)
        self.endpoint_sg = self._endpoints(args)

        self.db_subnet_group = None
        if args.database_tier:
            self.db_subnet_group = aws.rds.SubnetGroup(
                ctx.name("db"),
                description=f"{ctx.environment} database tier in {ctx.region}",
                subnet_ids=[s.id for s in self.subnets["database"]],
                tags=ctx.tags("db"),
                opts=stateful,
            )

        self.register_outputs({
            "vpcId": self.vpc.id,
            "cidr": str(plan.cidr),
            "subnetIds": {tier: [s.id for s in subs] for tier, subs in self.subnets.items()},
        })

    def _tier_tags(self, tier: str) -> dict[str, str]:
        # Lets the AWS Load Balancer Controller find subnets for internet-facing / internal LBs.
        if tier == "public":
            return {"kubernetes.io/role/elb": "1"}
        if tier == "workers":
            return {"kubernetes.io/role/internal-elb": "1", **self._worker_tags}
        return {}

    def _routing(self, args: NetworkArgs) -> None:
        """Route tables per tier: public -> IGW; workers -> NAT (per AZ when NAT is per AZ);
        database and endpoints have no internet route. Routes are separate resources so the
        connectivity layer can add TGW routes without fighting inline route blocks."""
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        self.private_route_tables: dict[str, aws.ec2.RouteTable] = {}  # key -> table, for TGW routes

        def table(key: str, tier: str, azs: range) -> aws.ec2.RouteTable:
            rt = aws.ec2.RouteTable(ctx.name("rt", key), vpc_id=self.vpc.id, tags=ctx.tags(f"rt-{key}"), opts=child)
            if tier != "public":
                self.private_route_tables[key] = rt
            for az in azs:
                aws.ec2.RouteTableAssociation(
                    ctx.name("rta", tier, AZ_LETTERS[az]),
                    subnet_id=self.subnets[tier][az].id, route_table_id=rt.id, opts=child)
            return rt

        every_az = range(args.az_count)

        nat_gateways: list[aws.ec2.NatGateway] = []
        public_rt = table("public", "public", every_az)
        if args.internet:
            igw = aws.ec2.InternetGateway(ctx.name("igw"), vpc_id=self.vpc.id, tags=ctx.tags("igw"), opts=child)
            aws.ec2.Route(ctx.name("public-default"), route_table_id=public_rt.id,
                          destination_cidr_block="0.0.0.0/0", gateway_id=igw.id, opts=child)
            nat_azs = {"single": 1, "perAz": args.az_count, "none": 0}[args.nat_mode]
            for az in range(nat_azs):
                letter = AZ_LETTERS[az]
                eip = aws.ec2.Eip(ctx.name("nat-eip", letter), domain="vpc", tags=ctx.tags(f"nat-eip-{letter}"), opts=child)
                nat_gateways.append(aws.ec2.NatGateway(
                    ctx.name("nat", letter), allocation_id=eip.id, subnet_id=self.subnets["public"][az].id,
                    connectivity_type="public", tags=ctx.tags(f"nat-{letter}"),
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw])))
        # Air-gapped: the public tier still exists (address stability) but has no route out.

        if args.nat_mode == "perAz":
            workers = [table(f"workers-{AZ_LETTERS[az]}", "workers", range(az, az + 1)) for az in every_az]
        else:
            workers = [table("workers", "workers", every_az)]
        for az, rt in enumerate(workers):
            if nat_gateways:
                nat = nat_gateways[az] if args.nat_mode == "perAz" else nat_gateways[0]
                aws.ec2.Route(ctx.name("workers-default", AZ_LETTERS[az] if args.nat_mode == "perAz" else ""),
                              route_table_id=rt.id, destination_cidr_block="0.0.0.0/0",
                              nat_gateway_id=nat.id, opts=child)

        if "database" in self.subnets:
            table("database", "database", every_az)
        table("endpoints", "endpoints", every_az)

    def _flow_logs(self, args: NetworkArgs) -> None:
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        self.flow_log_group = aws.cloudwatch.LogGroup(
            ctx.name("flow-logs"),
            name=ctx.log_group_name("vpc-flow-logs"),
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.logs_kms_key_arn,
            tags=ctx.tags("flow-logs"),
            opts=child,
        )
        role = aws.iam.Role(
            ctx.name("flow-logs"),
            assume_role_policy=service_trust("vpc-flow-logs.amazonaws.com"),
            tags=ctx.tags("flow-logs-role"),
            opts=child,
        )
        aws.iam.RolePolicy(
            ctx.name("flow-logs"),
            role=role.id,
            policy=self.flow_log_group.arn.apply(lambda arn: document([
                {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                 "Resource": [arn, f"{arn}:*"]},
                # Takes no resource ARN (IAM definition): on the group it granted nothing.
                {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": "*"},
            ])),
            opts=child,
        )
        self.flow_log = aws.ec2.FlowLog(
            ctx.name("flow-log"),
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=self.flow_log_group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=ctx.tags("flow-log"),
            opts=child,
        )

    def _endpoints(self, args: NetworkArgs) -> Optional[aws.ec2.SecurityGroup]:
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        private_tables = [rt.id for rt in self.private_route_tables.values()]
        for service in GATEWAY_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                ctx.name("vpce", service), vpc_id=self.vpc.id, service_name=ctx.service(service),
                vpc_endpoint_type="Gateway", route_table_ids=private_tables,
                tags=ctx.tags(f"vpce-{service}"), opts=child)
        if not args.interface_endpoints:
            return None
        sg = aws.ec2.SecurityGroup(
            ctx.name("vpce"), vpc_id=self.vpc.id,
            description="Interface VPC endpoints: HTTPS from inside the VPC",
            tags=ctx.tags("vpce"), opts=child)
        aws.vpc.SecurityGroupIngressRule(
            ctx.name("vpce-https"), security_group_id=sg.id, cidr_ipv4=str(args.plan.cidr),
            ip_protocol="tcp", from_port=443, to_port=443,
            description="HTTPS from the VPC", tags=ctx.tags("vpce-https"), opts=child)
        endpoint_subnets = [s.id for s in self.subnets["endpoints"]]
        for service in args.interface_endpoints:
            aws.ec2.VpcEndpoint(
                ctx.name("vpce", service.replace(".", "-")), vpc_id=self.vpc.id,
                service_name=ctx.service(service), vpc_endpoint_type="Interface",
                subnet_ids=endpoint_subnets, security_group_ids=[sg.id], private_dns_enabled=True,
                tags=ctx.tags(f"vpce-{service}"), opts=child)
        return sg

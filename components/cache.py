"""Data tier: an ElastiCache (Valkey or Redis OSS) replication group per region.

In the region's database subnets, 6379 open only to the EKS cluster security group (which every
managed and Karpenter node carries). Encrypted at rest with a customer-managed key of its own and
in transit (TLS required). Multi-AZ with automatic failover when configured; cluster mode when
there is more than one shard. Slow and engine logs go to CloudWatch (the region's logs key);
daily snapshots are kept.

Authentication has no secret anywhere, not even in Pulumi state: an RBAC user group holding
- a `default` user that is switched off. Every user group must contain a user named `default`
  (ElastiCache user guide, "Role-Based Access Control (RBAC)", "Applying RBAC to a cache");
  with it off, new connections start unauthenticated and must AUTH (valkey.io/topics/acl, `off`).
  It is a no-password user, which a user group of engine VALKEY refuses ("A user group configured
  for the VALKEY engine can only contain users who are using an authentication mechanism (either
  password or IAM)"), so the group and its users use engine `redis`, which Valkey clusters accept
  too ("When using RBAC with Valkey clusters, both user groups with engine VALKEY and REDIS can
  be used"; same page).
- the application's user, authenticated by IAM (ElastiCache user guide, "Authenticating with
  IAM": Valkey 7.2+/Redis OSS 7.0+, TLS required, user id equal to user name, 15-minute tokens,
  connections closed after 12 hours). Pods need `elasticache:Connect` on both
  `connect_resource_arns` (the replication group and the user) to sign a token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .config.data import cache_parameter_family, in_regions
from .iam import document, key_admin_statement
from .naming import RegionContext, cache_group_id, cache_member_ids, partition_of
from .stack import StackSpec
from .wiring import RegionWiring

PORT = 6379
# Automatic snapshots kept (CreateReplicationGroup SnapshotRetentionLimit; the TF provider caps
# it at 35, resource_replication_group.go). Taken daily in a window ElastiCache picks.
SNAPSHOT_RETENTION_DAYS = 7
# Users and the group use engine "redis" (see the module docstring); CreateUser/CreateUserGroup
# Engine: "The options are valkey or redis".
RBAC_ENGINE = "redis"
APP_ACCESS = "on ~* +@all"
DEFAULT_USER_ACCESS = "off -@all"
# ElastiCache Log delivery: slow-log (Valkey 7.x+, Redis OSS 6.0+) and engine-log (Valkey 7.x+,
# Redis OSS 6.2+); LogType/LogFormat/DestinationType enums from botocore's elasticache model.
LOG_TYPES = ("slow-log", "engine-log")


@dataclass(frozen=True, kw_only=True)
class CacheArgs:
    ctx: RegionContext
    account: pulumi.Input[str]
    engine: str  # valkey | redis
    engine_version: str  # major.minor
    parameter_family: str  # valkey7 | valkey8 | redis7
    node_type: str
    shards: int
    replicas_per_shard: int
    automatic_failover: bool
    vpc_id: pulumi.Input[str]
    subnet_ids: tuple[pulumi.Input[str], ...]  # the database subnets, one per AZ
    az_names: tuple[pulumi.Input[str], ...]  # their AZs, in the same order
    node_security_group_id: pulumi.Input[str]  # the EKS cluster security group
    logs_kms_key_arn: pulumi.Input[str]
    log_retention_days: int
    protect: bool = False

    @property
    def replication_group_id(self) -> str:
        return cache_group_id(self.ctx)

    @property
    def cluster_mode(self) -> bool:
        return self.shards > 1


def cache_args(spec: StackSpec, w: RegionWiring) -> Optional[CacheArgs]:
    cfg = spec.config
    cache = cfg.data.cache
    if cache is None or not in_regions(cache.regions, w.ctx.region):
        return None
    # The config rules (components/config/data.py, cache_issues) refuse a cache without the
    # database tier, a cluster or a known parameter group family.
    assert w.network is not None and w.cluster is not None, "data.cache needs the database tier and a cluster"
    family = cache_parameter_family(cache.engine, cache.engine_version)
    assert family is not None
    return CacheArgs(
        ctx=w.ctx, account=w.account, engine=cache.engine, engine_version=cache.engine_version,
        parameter_family=family, node_type=cache.node_type, shards=cache.shards,
        replicas_per_shard=cache.replicas_per_shard, automatic_failover=cache.automatic_failover,
        vpc_id=w.network.vpc.id, subnet_ids=tuple(s.id for s in w.network.subnets["database"]),
        az_names=tuple(w.network.az_names),
        node_security_group_id=w.cluster.cluster.cluster_security_group_id,
        logs_kms_key_arn=w.logs_key.arn, log_retention_days=cache.log_retention_days,
        protect=cfg.environment == "prod")


def preferred_azs(az_names: tuple, nodes: int) -> list:
    """The primary in the first AZ, each replica in the next (cycling): with cluster mode off
    CreateReplicationGroup takes one AZ per node (PreferredCacheClusterAZs, "The number of
    Availability Zones listed must equal the value of NumCacheClusters")."""
    return [az_names[i % len(az_names)] for i in range(nodes)]


def cache_key_policy(account: str, partition: str) -> str:
    # The account statement only, as the platform's other keys: ElastiCache uses the key on behalf
    # of the principal creating the replication group, which the account's IAM policies must allow
    # (kms:CreateGrant, kms:DescribeKey, ...); no service principal is named.
    return document([key_admin_statement(account, partition)])


class CacheCluster(pulumi.ComponentResource):
    """The replication group and what it needs. For the lead: `replication_group`,
    `replication_group_id` (plain), `member_cluster_ids` (plain, ElastiCache's node cluster names),
    `security_group`, `app_user_name`, `connect_resource_arns`, `target_tag` (FIS selects by it)."""

    def __init__(self, name: str, args: CacheArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:cache:CacheCluster", name, None, opts)
        ctx, a = args.ctx, args
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=a.protect)
        rg_id = self.replication_group_id = a.replication_group_id
        self.member_cluster_ids = cache_member_ids(rg_id, a.shards, a.replicas_per_shard)

        self.security_group = aws.ec2.SecurityGroup(
            ctx.name("cache"), vpc_id=a.vpc_id, description=f"ElastiCache {rg_id}: {PORT} from the cluster nodes only",
            tags=ctx.tags("cache-sg"), opts=child)
        aws.vpc.SecurityGroupIngressRule(
            ctx.name("cache-from-nodes"), security_group_id=self.security_group.id,
            referenced_security_group_id=a.node_security_group_id, ip_protocol="tcp", from_port=PORT, to_port=PORT,
            description="Valkey/Redis from the EKS cluster security group", tags=ctx.tags("cache-from-nodes"),
            opts=child)
        subnet_group = aws.elasticache.SubnetGroup(
            ctx.name("cache"), name=rg_id, description=f"{ctx.environment} database subnets in {ctx.region}",
            subnet_ids=list(a.subnet_ids), tags=ctx.tags("cache-subnets"), opts=child)
        # The family is in the resource and AWS names: a major upgrade makes a new group (family,
        # name and description are ForceNew, resource_parameter_group.go) that the replication
        # group moves to with its engine_version; Pulumi deletes the old one afterwards.
        parameter_group = aws.elasticache.ParameterGroup(
            ctx.name("cache", a.parameter_family), name=f"{rg_id}-{a.parameter_family}", family=a.parameter_family,
            description=f"{rg_id} {a.parameter_family}",
            parameters=[{"name": "cluster-enabled", "value": "yes" if a.cluster_mode else "no"}],
            tags=ctx.tags("cache-params"), opts=child)

        # No customer-managed keys for ElastiCache in GovCloud (ElastiCache user guide, "At-Rest
        # Encryption in ElastiCache"): there the service-managed key encrypts.
        self.key: Optional[aws.kms.Key] = None
        if not ctx.region.startswith("us-gov-"):
            partition = partition_of(ctx.region)
            self.key = aws.kms.Key(
                ctx.name("cache-key"), description=f"{ctx.environment} ElastiCache encryption at rest in {ctx.region}",
                enable_key_rotation=True, deletion_window_in_days=30,
                policy=pulumi.Output.from_input(a.account).apply(lambda acct: cache_key_policy(acct, partition)),
                tags=ctx.tags("cache-key"), opts=stateful)
            aws.kms.Alias(ctx.name("cache-key"), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/cache",
                          target_key_id=self.key.key_id, opts=child)

        self.log_groups = {t: aws.cloudwatch.LogGroup(
            ctx.name("cache", t), name=ctx.log_group_name(f"elasticache/{t}"), retention_in_days=a.log_retention_days,
            kms_key_id=a.logs_kms_key_arn, tags=ctx.tags(f"cache-{t}"), opts=child) for t in LOG_TYPES}

        self._users(args, child)

        shape: dict = (
            {"cluster_mode": "enabled", "num_node_groups": a.shards, "replicas_per_node_group": a.replicas_per_shard}
            if a.cluster_mode else
            {"cluster_mode": "disabled", "num_cache_clusters": a.replicas_per_shard + 1,
             "preferred_cache_cluster_azs": preferred_azs(a.az_names, a.replicas_per_shard + 1)})
        tags = ctx.tags("cache")
        self.target_tag = ("Name", tags["Name"])  # FIS selects the replication group by it
        self.replication_group = aws.elasticache.ReplicationGroup(
            ctx.name("cache"), replication_group_id=rg_id, description=f"{ctx.environment} cache in {ctx.region}",
            engine=a.engine, engine_version=a.engine_version, node_type=a.node_type, port=PORT,
            parameter_group_name=parameter_group.name, subnet_group_name=subnet_group.name,
            security_group_ids=[self.security_group.id],
            at_rest_encryption_enabled=True, kms_key_id=self.key.arn if self.key else None,
            transit_encryption_enabled=True, transit_encryption_mode="required",
            user_group_ids=[self.user_group.user_group_id],
            automatic_failover_enabled=a.automatic_failover, multi_az_enabled=a.automatic_failover,
            snapshot_retention_limit=SNAPSHOT_RETENTION_DAYS,
            final_snapshot_identifier=f"{rg_id}-final" if a.protect else None,
            auto_minor_version_upgrade=True,
            # Log delivery changes must be applied immediately (ElastiCache user guide, "Log
            # delivery"), and the provider sends one ModifyReplicationGroup with this flag.
            apply_immediately=True,
            log_delivery_configurations=[
                {"destination_type": "cloudwatch-logs", "destination": g.name, "log_format": "json", "log_type": t}
                for t, g in self.log_groups.items()],
            **shape, tags=tags, opts=stateful)

        self.connect_resource_arns = pulumi.Output.all(self.replication_group.arn, self.app_user.arn)
        self.register_outputs({
            "replicationGroupId": rg_id, "memberClusterIds": list(self.member_cluster_ids),
            "primaryEndpoint": self.replication_group.primary_endpoint_address,
            "readerEndpoint": self.replication_group.reader_endpoint_address,
            "configurationEndpoint": self.replication_group.configuration_endpoint_address,
            "appUserName": self.app_user_name, "connectResourceArns": self.connect_resource_arns})

    def _users(self, a: CacheArgs, child: pulumi.ResourceOptions) -> None:
        ctx, rg_id = a.ctx, a.replication_group_id
        # IAM authentication needs the user id and the user name to be the same.
        self.app_user_name = f"{rg_id}-app"
        self.app_user = aws.elasticache.User(
            ctx.name("cache-user", "app"), user_id=self.app_user_name, user_name=self.app_user_name,
            engine=RBAC_ENGINE, access_string=APP_ACCESS, authentication_mode={"type": "iam"},
            tags=ctx.tags("cache-user-app"), opts=child)
        # Replaces the built-in `default` user (id "default", open to all) in this group: same
        # name, its own id, switched off, no password to keep.
        self.default_user = aws.elasticache.User(
            ctx.name("cache-user", "default"), user_id=f"{rg_id}-default", user_name="default",
            engine=RBAC_ENGINE, access_string=DEFAULT_USER_ACCESS, no_password_required=True,
            tags=ctx.tags("cache-user-default"), opts=child)
        self.user_group = aws.elasticache.UserGroup(
            ctx.name("cache-users"), user_group_id=f"{rg_id}-users", engine=RBAC_ENGINE,
            user_ids=[self.default_user.user_id, self.app_user.user_id], tags=ctx.tags("cache-users"), opts=child)

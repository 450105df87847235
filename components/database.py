"""Data tier: Aurora MySQL per region, optionally one Aurora Global Database across regions.

Per region: a customer-managed key (storage, Performance Insights, the master secret), a
security group admitting 3306 from the EKS cluster security group only (every node carries it),
a cluster parameter group that refuses plaintext connections and turns the audit and slow logs
on, log groups made before the cluster so the exported logs expire and are encrypted, an
enhanced-monitoring role, the cluster (IAM database authentication, encrypted, backed up) and
its instances spread over the database subnets' AZs.

Master credentials. A standalone cluster has RDS keep the master password in Secrets Manager
(ManageMasterUserPassword, encrypted with our key): it never passes through config, the program
or state. RDS does not offer that for clusters in a global database (Aurora user guide,
"Password management with Amazon Aurora and AWS Secrets Manager", "Limitations for Secrets
Manager integration"), so the global primary gets the closest thing: a Secrets Manager secret
(our key) whose first value this program generates at deploy time (never in config), written
with the write-only `secret_string_wo`; the cluster reads the password back from Secrets Manager
and receives it through the write-only `master_password_wo`, so the secret and the database
always agree, even when a first cluster create fails and is retried. Pulumi still records a
write-only input in the stack's state, encrypted as a secret (pulumi/pulumi-terraform-bridge#3201):
rotate the secret after bootstrap and the value in state is stale. Secondaries take no master
credentials: the database and its users replicate from the primary.

Global database. The hub's component creates the GlobalCluster and the primary; every other
region listed gets a secondary cluster with instances, created after the primary and its writer
(an encrypted secondary also names the primary's region, `source_region`, so the provider signs
the cross-region request, and a key of its own region). Members ignore `engineVersion` (upgrades
go through the GlobalCluster) and secondaries `replicationSourceIdentifier` (RDS sets it): the
pattern the provider documents for rds.GlobalCluster."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Literal, Optional, Sequence

import pulumi
import pulumi_aws as aws

from .config.data import in_regions
from .iam import document, key_admin_statement, service_trust
from .naming import RegionContext, aurora_cluster_id, partition_of
from .stack import StackSpec
from .wiring import RegionWiring

ENGINE = "aurora-mysql"
PORT = 3306
MASTER_USERNAME = "admin"  # 1-16 letters/digits, a letter first, not a reserved word (CreateDBCluster)
# Bump to give the global primary a new master password (the write-only fields are re-sent only then).
MASTER_PASSWORD_VERSION = 1
# Exported log types (CreateDBCluster EnableCloudwatchLogsExports, Aurora MySQL: audit | error |
# general | instance | slowquery | iam-db-auth-error). `general` would log every statement.
LOG_EXPORTS = ("audit", "error", "slowquery", "iam-db-auth-error")
MONITORING_INTERVAL = 60  # seconds; RDS accepts 0, 1, 5, 10, 15, 30, 60
PERFORMANCE_INSIGHTS_RETENTION = 7  # days; RDS accepts 7, 31*n (n 1-23) or 731; 7 is free
# The cluster parameter group. require_secure_transport is a cluster parameter; ON refuses
# plaintext connections (Aurora user guide, "Security with Amazon Aurora MySQL", Requiring an
# SSL/TLS connection). Advanced Auditing writes the audit log only with server_audit_logging on
# and events listed (Aurora user guide, "Using Advanced Auditing with an Amazon Aurora MySQL DB
# cluster"); the slow query log needs slow_query_log and log_output=FILE to reach CloudWatch.
# Those three are instance-level parameters: a DB cluster parameter group holds defaults for them
# that every instance inherits (Aurora user guide, "DB cluster parameter groups for Amazon Aurora
# DB clusters"). All six are dynamic, so "immediate" applies them without a reboot.
CLUSTER_PARAMETERS = (
    ("require_secure_transport", "ON"),
    ("server_audit_logging", "1"),
    ("server_audit_events", "CONNECT,QUERY_DCL,QUERY_DDL"),
    ("slow_query_log", "1"),
    ("long_query_time", "2"),
    ("log_output", "FILE"),
)
MONITORING_POLICY = "arn:{p}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"

Role = Literal["standalone", "primary", "secondary"]


@dataclass(frozen=True, kw_only=True)
class AuroraGlobalHandle:
    """What the hub hands to the other regions: the global cluster to join, the region of the
    primary (an encrypted secondary names it) and what must exist first (the primary and its
    writer: AWS adds a secondary only to a global database whose primary has an instance)."""
    identifier: pulumi.Input[str]
    primary_region: str
    ready: tuple[pulumi.Resource, ...]


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    ctx: RegionContext
    account: pulumi.Input[str]
    role: Role
    engine_version: str
    instance_class: str
    instances: int
    backup_retention_days: int
    log_retention_days: int
    vpc_id: pulumi.Input[str]
    subnet_group_name: pulumi.Input[str]
    az_names: tuple[pulumi.Input[str], ...]  # the database subnets' AZs, in subnet order
    node_security_group_id: pulumi.Input[str]  # the EKS cluster security group every node carries
    logs_kms_key_arn: pulumi.Input[str]
    prod: bool = False
    global_identifier: Optional[str] = None  # primary: the GlobalCluster it creates
    joins: Optional[AuroraGlobalHandle] = None  # secondary: the global cluster it joins


def parameter_group_family(engine_version: str) -> str:
    """8.0.mysql_aurora.3.10.6 -> aurora-mysql8.0 (CreateDBClusterParameterGroup,
    DBParameterGroupFamily: `aurora-mysql8.0` for Aurora MySQL version 3)."""
    return f"{ENGINE}{engine_version.split('.mysql_aurora.')[0]}"


def global_cluster_id(environment: str) -> str:
    return f"{environment}-aurora"


def database_args(spec: StackSpec, w: RegionWiring) -> Optional[DatabaseArgs]:
    cfg, ctx = spec.config, w.ctx
    aurora = cfg.data.aurora
    if aurora is None or not in_regions(aurora.regions, ctx.region):
        return None
    # Config rules refuse Aurora without the database tier or a cluster; nothing to admit otherwise.
    if w.cluster is None or w.network is None or w.network.db_subnet_group is None:
        return None
    role: Role = "standalone"
    if aurora.global_database:
        role = "primary" if ctx.region == cfg.hub.name else "secondary"
    if role == "secondary" and w.aurora_global is None:
        raise ValueError(f"{ctx.region}: a global database secondary needs the hub's global cluster")
    return DatabaseArgs(
        ctx=ctx, account=w.account, role=role, engine_version=aurora.engine_version,
        instance_class=aurora.instance_class, instances=aurora.instances,
        backup_retention_days=aurora.backup_retention_days, log_retention_days=aurora.log_retention_days,
        vpc_id=w.network.vpc.id, subnet_group_name=w.network.db_subnet_group.name,
        az_names=tuple(w.network.az_names),
        node_security_group_id=w.cluster.cluster.cluster_security_group_id,
        logs_kms_key_arn=w.logs_key.arn, prod=cfg.environment == "prod",
        global_identifier=global_cluster_id(cfg.environment) if role == "primary" else None,
        joins=w.aurora_global if role == "secondary" else None)


def database_key_policy(account: str, partition: str, region: str) -> str:
    """The account administers the key; principals of the account use it through RDS (storage,
    Performance Insights, the RDS-managed master secret) and Secrets Manager (the master secret),
    as the AWS managed aws/rds and aws/secretsmanager keys allow."""
    return document([
        key_admin_statement(account, partition),
        {"Sid": "UseThroughRdsAndSecretsManager", "Effect": "Allow",
         "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant",
                    "kms:ListGrants", "kms:DescribeKey"],
         "Resource": "*",
         "Condition": {"StringEquals": {"kms:CallerAccount": account,
                                        "kms:ViaService": [f"rds.{region}.amazonaws.com",
                                                           f"secretsmanager.{region}.amazonaws.com"]}}},
    ])


def monitoring_trust(account: str) -> str:
    """Enhanced Monitoring's role: RDS assumes it for this account only (confused deputy)."""
    return service_trust("monitoring.rds.amazonaws.com", condition={"StringEquals": {"aws:SourceAccount": account}})


def bootstrap_credentials() -> str:
    """{"username", "password"}: 32 letters and digits (RDS takes 8-41 printable characters
    without '/', '"' or '@'), from the OS's CSPRNG, made at deploy time and never in config."""
    alphabet = string.ascii_letters + string.digits
    password = "".join(secrets.choice(alphabet) for _ in range(32))
    return json.dumps({"username": MASTER_USERNAME, "password": password})


class AuroraDatabase(pulumi.ComponentResource):
    def __init__(self, name: str, args: DatabaseArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:database:AuroraDatabase", name, None, opts)
        ctx, a = args.ctx, args
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=a.prod)
        partition = partition_of(ctx.region)
        self.cluster_identifier = aurora_cluster_id(ctx)
        self.is_global_secondary = a.role == "secondary"
        self.is_global_primary = a.role == "primary"

        self.key = aws.kms.Key(
            ctx.name("aurora"), description=f"{ctx.environment} Aurora MySQL encryption in {ctx.region}",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=pulumi.Output.from_input(a.account).apply(
                lambda acct: database_key_policy(acct, partition, ctx.region)),
            tags=ctx.tags("aurora-key"), opts=stateful)
        aws.kms.Alias(ctx.name("aurora"), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/aurora",
                      target_key_id=self.key.key_id, opts=child)

        self.security_group = aws.ec2.SecurityGroup(
            ctx.name("aurora"), vpc_id=a.vpc_id, description="Aurora MySQL: 3306 from the EKS cluster's nodes only",
            tags=ctx.tags("aurora"), opts=child)
        aws.vpc.SecurityGroupIngressRule(
            ctx.name("aurora-from-nodes"), security_group_id=self.security_group.id,
            referenced_security_group_id=a.node_security_group_id, ip_protocol="tcp", from_port=PORT, to_port=PORT,
            description="MySQL from the EKS cluster security group", tags=ctx.tags("aurora-from-nodes"), opts=child)

        family = parameter_group_family(a.engine_version)
        # Custom parameter group names take no periods (Aurora user guide, "Creating a DB cluster
        # parameter group"); the family is in the name so a major upgrade makes a new group.
        self.parameter_group = aws.rds.ClusterParameterGroup(
            ctx.name("aurora"), name=f"{self.cluster_identifier}-{family.removeprefix('aurora-').replace('.', '-')}",
            family=family,
            description=f"{self.cluster_identifier}: TLS required, audit and slow query logs",
            parameters=[{"name": n, "value": v, "apply_method": "immediate"} for n, v in CLUSTER_PARAMETERS],
            tags=ctx.tags("aurora-params"), opts=child)

        # RDS writes each exported log to /aws/rds/cluster/<cluster>/<type> and uses the group if it
        # already exists (Aurora user guide, "Publishing Amazon Aurora MySQL logs to Amazon
        # CloudWatch Logs"); made first, they expire and are encrypted with the region's logs key.
        self.log_groups = {t: aws.cloudwatch.LogGroup(
            ctx.name("aurora-logs", t), name=f"/aws/rds/cluster/{self.cluster_identifier}/{t}",
            retention_in_days=a.log_retention_days, kms_key_id=a.logs_kms_key_arn,
            tags=ctx.tags(f"aurora-logs-{t}"), opts=child) for t in LOG_EXPORTS}

        self.monitoring_role = aws.iam.Role(
            ctx.name("aurora-monitoring"),
            assume_role_policy=pulumi.Output.from_input(a.account).apply(monitoring_trust),
            tags=ctx.tags("aurora-monitoring"), opts=child)
        monitoring_policy = aws.iam.RolePolicyAttachment(
            ctx.name("aurora-monitoring"), role=self.monitoring_role.name,
            policy_arn=MONITORING_POLICY.format(p=partition), opts=child)

        self.global_cluster: Optional[aws.rds.GlobalCluster] = None
        self.master_secret: Optional[aws.secretsmanager.Secret] = None
        self.cluster = self._cluster(a, family, [*self.log_groups.values(), monitoring_policy])
        self.instances = self._instances(a)
        self.instance_identifiers = [f"{self.cluster_identifier}-{i + 1}" for i in range(a.instances)]
        # The writer is the first instance of a cluster with one (a secondary has readers only).
        self.writer = None if self.is_global_secondary else self.instances[0]
        self.global_handle = AuroraGlobalHandle(
            identifier=self.global_cluster.id, primary_region=ctx.region,
            ready=(self.cluster, self.instances[0])) if self.global_cluster else None
        self.register_outputs({"clusterIdentifier": self.cluster_identifier, "endpoint": self.cluster.endpoint,
                               "readerEndpoint": self.cluster.reader_endpoint})

    def _cluster(self, a: DatabaseArgs, family: str, first: Sequence[pulumi.Resource]) -> aws.rds.Cluster:
        ctx = a.ctx
        common = dict(
            cluster_identifier=self.cluster_identifier, engine=ENGINE, engine_version=a.engine_version,
            db_subnet_group_name=a.subnet_group_name, vpc_security_group_ids=[self.security_group.id],
            db_cluster_parameter_group_name=self.parameter_group.name, port=PORT,
            storage_encrypted=True, kms_key_id=self.key.arn,
            iam_database_authentication_enabled=True,
            backup_retention_period=a.backup_retention_days, copy_tags_to_snapshot=True,
            delete_automated_backups=not a.prod,
            deletion_protection=a.prod,
            skip_final_snapshot=not a.prod,
            final_snapshot_identifier=f"{self.cluster_identifier}-final" if a.prod else None,
            enabled_cloudwatch_logs_exports=list(LOG_EXPORTS),
            performance_insights_enabled=True, performance_insights_kms_key_id=self.key.arn,
            performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION,
            monitoring_interval=MONITORING_INTERVAL, monitoring_role_arn=self.monitoring_role.arn,
            # An LTS release: automatic minor upgrades could move it off LTS (Aurora MySQL release
            # notes, 3.10.0: "We recommend that you don't set AutoMinorVersionUpgrade to true").
            auto_minor_version_upgrade=False,
            tags=ctx.tags("aurora", {"aurora-role": a.role}))
        name = ctx.name("aurora")

        if a.role == "standalone":
            return aws.rds.Cluster(
                name, master_username=MASTER_USERNAME, manage_master_user_password=True,
                master_user_secret_kms_key_id=self.key.arn, **common,
                opts=pulumi.ResourceOptions(parent=self, protect=a.prod, depends_on=list(first)))

        if a.role == "primary":
            self.global_cluster = aws.rds.GlobalCluster(
                ctx.name("aurora-global"), global_cluster_identifier=a.global_identifier, engine=ENGINE,
                engine_version=a.engine_version, storage_encrypted=True, deletion_protection=a.prod,
                tags=ctx.tags("aurora-global"), opts=pulumi.ResourceOptions(parent=self, protect=a.prod))
            self.master_secret = aws.secretsmanager.Secret(
                ctx.name("aurora-master"), name=f"{self.cluster_identifier}-master",
                description=f"Master user of the {a.global_identifier} global database (primary "
                            f"{self.cluster_identifier})",
                kms_key_id=self.key.arn, recovery_window_in_days=30, tags=ctx.tags("aurora-master"),
                opts=pulumi.ResourceOptions(parent=self, protect=a.prod))
            version = aws.secretsmanager.SecretVersion(
                ctx.name("aurora-master"), secret_id=self.master_secret.id,
                secret_string_wo=pulumi.Output.secret(bootstrap_credentials()),
                secret_string_wo_version=MASTER_PASSWORD_VERSION, opts=pulumi.ResourceOptions(parent=self))
            stored = aws.secretsmanager.get_secret_version_output(
                secret_id=self.master_secret.arn, version_id=version.version_id,
                opts=pulumi.InvokeOutputOptions(parent=self))
            password = pulumi.Output.secret(stored.secret_string.apply(lambda s: json.loads(s)["password"]))
            return aws.rds.Cluster(
                name, global_cluster_identifier=self.global_cluster.id, master_username=MASTER_USERNAME,
                master_password_wo=password, master_password_wo_version=MASTER_PASSWORD_VERSION, **common,
                opts=pulumi.ResourceOptions(parent=self, protect=a.prod, depends_on=list(first),
                                            ignore_changes=["engineVersion"]))

        joins = a.joins
        assert joins is not None
        return aws.rds.Cluster(
            name, global_cluster_identifier=joins.identifier, source_region=joins.primary_region, **common,
            opts=pulumi.ResourceOptions(parent=self, protect=a.prod, depends_on=[*first, *joins.ready],
                                        ignore_changes=["engineVersion", "replicationSourceIdentifier"]))

    def _instances(self, a: DatabaseArgs) -> list[aws.rds.ClusterInstance]:
        """Round-robin over the database subnets' AZs. The first is created alone, so it is the
        writer (of a primary or standalone cluster); the others follow as readers, failover tier 1."""
        ctx = a.ctx
        out: list[aws.rds.ClusterInstance] = []
        for i in range(a.instances):
            ident = f"{self.cluster_identifier}-{i + 1}"
            out.append(aws.rds.ClusterInstance(
                ctx.name("aurora", str(i + 1)), identifier=ident, cluster_identifier=self.cluster.id,
                engine=ENGINE, instance_class=a.instance_class, db_subnet_group_name=a.subnet_group_name,
                availability_zone=a.az_names[i % len(a.az_names)], publicly_accessible=False,
                promotion_tier=0 if i == 0 else 1,
                # the same as the cluster's: Database Insights wants every instance alike, and the
                # provider's instance default (monitoring_interval 0) would otherwise undo it
                monitoring_interval=MONITORING_INTERVAL, monitoring_role_arn=self.monitoring_role.arn,
                performance_insights_enabled=True, performance_insights_kms_key_id=self.key.arn,
                performance_insights_retention_period=PERFORMANCE_INSIGHTS_RETENTION,
                auto_minor_version_upgrade=False,  # copy_tags_to_snapshot is the cluster's (CreateDBInstance)
                tags=ctx.tags(f"aurora-{i + 1}", {"aurora-role": a.role}),
                opts=pulumi.ResourceOptions(parent=self, depends_on=out[:1])))
        return out

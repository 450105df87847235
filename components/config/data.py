"""`data`: the data tier a new service needs behind the clusters: Aurora MySQL, an ElastiCache
replication group, S3 buckets (one optionally behind CloudFront) and SNS -> SQS push. Defaults
are production settings; the rules below refuse what production must not run."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from typing import TYPE_CHECKING, Any, Literal, Optional

from pydantic import Field

from ..naming import region_short_code
from .base import SLUG, RetentionDays, _Model, named_pattern, repeated
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# SQS: a queue name is at most 80 characters (CreateQueue, QueueName); the DLQ adds "-dlq".
SQS_NAME_MAX = 80


class QueueSpec(_Model):
    """One SQS queue subscribed to its topic, with a dead-letter queue (`<queue>-dlq`, kept 14 days)
    that takes a message after `maxReceiveCount` failed receives."""
    name: str = Field(pattern=SLUG, description="queue `<env>-<region code>-<topic>-<name>`; its DLQ adds `-dlq`")
    filter_policy: Optional[dict[str, Any]] = Field(
        None, description="SNS subscription filter policy on message attributes; none delivers every message")
    max_receive_count: int = Field(5, ge=1, le=1000, description="receives before a message moves to the DLQ "
                                                                 "(SQS accepts 1-1000)")
    raw_delivery: bool = Field(True, description="deliver the message body as published, without the SNS envelope")


class TopicSpec(_Model):
    """An SNS topic, encrypted with the region's messaging key, fanning out to its queues, each of
    which admits only this topic (queue policy on `aws:SourceArn`, TLS only)."""
    name: str = Field(pattern=SLUG, description="topic `<env>-<region code>-<name>`")
    queues: list[QueueSpec] = Field(min_length=1, description="the queues this topic delivers to")


class MessagingSpec(_Model):
    """SNS -> SQS push: topics and queues per region, all encrypted with one customer-managed key per
    region that SNS may use (SNS must encrypt for the encrypted queues it writes to)."""
    topics: list[TopicSpec] = Field(min_length=1, description="the topics and the queues they fan out to")
    regions: Optional[list[str]] = Field(None, description="the regions that get them; all when omitted")


# aurora-mysql engine versions read `<MySQL major.minor>.mysql_aurora.<Aurora version>`, e.g.
# 8.0.mysql_aurora.3.10.0 (RDS DescribeDBEngineVersions, EngineVersion).
AURORA_MYSQL_VERSION = named_pattern(r"^\d+\.\d+\.mysql_aurora\.\d+\.\d+\.\d+$",
                                     "`<mysql>.mysql_aurora.<x.y.z>`")
# ElastiCache engine versions are `major.minor` for Valkey and Redis OSS 6+ (CreateReplicationGroup;
# the TF provider v6.58.0 validates valkey as ^[7-9]\.\d+$, var.valkeyVersionRegexpPattern).
CACHE_VERSION = named_pattern(r"^\d+\.\d+$", "`major.minor`")
# (engine, major) -> the parameter group family its custom parameter group is made in. Only
# families AWS lists (botocore 1.44.8 elasticache CreateCacheParameterGroup, CacheParameterGroupFamily:
# valkey8 | valkey7 | ... | redis6.x | redis7) and only versions with IAM authentication
# (ElastiCache user guide, "Authenticating with IAM": Valkey 7.2+, Redis OSS 7.0+).
CACHE_PARAMETER_FAMILIES = {("valkey", 7): "valkey7", ("valkey", 8): "valkey8", ("redis", 7): "redis7"}


def cache_parameter_family(engine: str, version: str) -> Optional[str]:
    major, minor = (int(x) for x in version.split("."))
    if engine == "valkey" and (major, minor) < (7, 2):
        return None
    return CACHE_PARAMETER_FAMILIES.get((engine, major))
# Aurora: one writer and up to 15 readers per cluster (Aurora user guide, "Aurora Replicas").
AURORA_MAX_INSTANCES = 16
# S3 general purpose bucket naming rules (S3 user guide, "General purpose bucket naming rules").
S3_NAME_MAX = 63
S3_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


class AuroraSpec(_Model):
    """Aurora MySQL in each region's database subnets: encrypted with the region's data key, IAM
    authentication, the master password kept by Secrets Manager (never in config or state), TLS
    required by the cluster parameter group, Performance Insights, enhanced monitoring, logs to
    CloudWatch, and 3306 open only to the cluster's nodes. prod adds deletion protection and
    `protect`. With `global`, an Aurora Global Database: the primary in the hub, a secondary
    (read-only) cluster in every other region it lists."""
    engine_version: str = Field(pattern=AURORA_MYSQL_VERSION,
                                description="aurora-mysql engine version, pinned (e.g. `8.0.mysql_aurora.3.10.6`, the 3.10 LTS line)")
    instance_class: str = Field(pattern=r"^db\.[a-z0-9-]+\.[a-z0-9]+$", description="instance class, e.g. `db.r7g.large`")
    instances: int = Field(2, ge=1, le=AURORA_MAX_INSTANCES,
                           description="the writer and its readers, spread over the database subnets' AZs")
    backup_retention_days: int = Field(7, ge=1, le=35, description="automated backups kept (RDS accepts 1-35; "
                                                                   "prod needs at least 7)")
    global_database: bool = Field(False, alias="global",
                                  description="an Aurora Global Database: primary in the hub, secondaries elsewhere")
    log_retention_days: RetentionDays = Field(90, description="retention of the exported audit, error and slow logs")
    regions: Optional[list[str]] = Field(None, description="the regions that get a cluster; all when omitted")


class CacheSpec(_Model):
    """An ElastiCache replication group per region in the database subnets: Multi-AZ with
    automatic failover, encrypted at rest (a customer-managed key) and in transit (TLS required),
    IAM authentication through an RBAC user group (no password anywhere), slow and engine logs to
    CloudWatch, daily snapshots, 6379 open only to the cluster's nodes."""
    engine: Literal["valkey", "redis"] = Field("valkey", description="Valkey or Redis OSS")
    engine_version: str = Field(pattern=CACHE_VERSION, description="engine version, pinned (`major.minor`)")
    node_type: str = Field(pattern=r"^cache\.[a-z0-9-]+\.[a-z0-9]+$", description="node type, e.g. `cache.r7g.large`")
    shards: int = Field(1, ge=1, le=500, description="node groups; more than one turns cluster mode on")
    replicas_per_shard: int = Field(1, ge=0, le=5, description="replicas of each shard's primary (0-5)")
    automatic_failover: bool = Field(True, description="Multi-AZ with automatic failover (needs a replica)")
    log_retention_days: RetentionDays = Field(90, description="retention of the delivered slow and engine logs")
    regions: Optional[list[str]] = Field(None, description="the regions that get one; all when omitted")


class CdnSpec(_Model):
    """CloudFront in front of the bucket. A custom domain is required: with the default
    `*.cloudfront.net` certificate CloudFront ignores the minimum TLS version and serves TLSv1."""
    domain: str = Field(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                        description="the name viewers use; a certificate for it is issued in us-east-1")
    hosted_zone_id: str = Field(pattern=r"^Z[A-Z0-9]{1,31}$",
                                description="the public Route 53 zone that validates the certificate and "
                                            "aliases the domain")
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = Field(
        "PriceClass_All", description="the edge locations CloudFront serves from")
    log_retention_days: RetentionDays = Field(90, description="retention of the access logs and the WAF's logs")
    # WAF counts before the edge cache and a page pulls tens of static objects, so the default sits
    # far above the ingress WAF's per-IP limit (scaling.waf.requestsPerFiveMinutes): ~33 requests a
    # second from one address (a NAT full of browsers) passes, a flood does not. wafv2
    # RateBasedStatement.Limit: 10 to 2,000,000,000 (botocore wafv2 model).
    requests_per_five_minutes: int = Field(
        10_000, ge=10, le=2_000_000_000,
        description="requests per client IP per 5 minutes before the distribution's WAF blocks it")


class BucketSpec(_Model):
    """An S3 bucket `<name>-<env>-<region code>`: versioned, SSE-KMS, public access blocked,
    ACLs off, TLS only, current objects to STANDARD_IA and old versions expired."""
    name: str = Field(description="the name's stem; S3 names are global, so include your organisation")
    infrequent_access_after_days: Optional[int] = Field(
        30, ge=30, le=3650, description="days before objects move to STANDARD_IA (S3 needs 30 or more); "
                                        "`null` keeps them in STANDARD")
    noncurrent_version_expiry_days: int = Field(90, ge=1, le=3650, description="days old versions are kept")
    cdn: Optional[CdnSpec] = Field(None, description="serve the bucket through CloudFront (one region only)")
    regions: Optional[list[str]] = Field(None, description="the regions that get the bucket; all when omitted")


class StorageSpec(_Model):
    buckets: list[BucketSpec] = Field(min_length=1, description="the buckets, each in its regions")


class DataSpec(_Model):
    """The data tier behind the clusters, per region, with production settings by default: each
    service in the database subnets (`network.databaseTier`), encrypted with its own
    customer-managed key, reachable only from the cluster's nodes (the EKS cluster security
    group every node carries), logs to CloudWatch with retention, `protect` and deletion
    protection in prod.

    - Aurora: standalone clusters keep the master password in Secrets Manager, managed by RDS.
      RDS cannot manage it for a global database ("Limitations for Secrets Manager integration"),
      so the global primary's password is generated at deploy time into a Secrets Manager secret
      and handed to RDS through write-only inputs; Pulumi still keeps write-only values in its
      state, encrypted (pulumi/pulumi-terraform-bridge#3201): rotate it after the first deploy.
      Applications authenticate with IAM (`rds-db:connect`). Secondaries join the hub's global
      cluster only after the primary and its writer exist.
    - Cache: IAM authentication through an RBAC user group (a switched-off `default` user and an
      app user, no password anywhere); pods need `elasticache:Connect` on the replication group
      and the app user (the component exports both ARNs).
    - CloudFront is global, but its certificate and its access-log delivery must be made in
      us-east-1: a region whose bucket has `cdn` gets a second provider for us-east-1 (same
      settings) for the certificate, its DNS validation, the distribution, the aliases, the
      log group and its key, and the standard-logging v2 delivery. The bucket and its key stay
      in the bucket's region; only that distribution may read it (`AWS:SourceArn`).
    - Air-gapped stacks get the endpoints the tier's clients call (see `network.endpoints`)."""
    aurora: Optional[AuroraSpec] = Field(None, description="Aurora MySQL per region, optionally global")
    cache: Optional[CacheSpec] = Field(None, description="ElastiCache (Valkey or Redis OSS) per region")
    storage: Optional[StorageSpec] = Field(None, description="S3 buckets, one optionally behind CloudFront")
    messaging: Optional[MessagingSpec] = Field(None, description="SNS topics fanning out to SQS queues with DLQs")


def in_regions(regions: Optional[list[str]], region: str) -> bool:
    """Whether a section listing `regions` (None: all) covers `region`."""
    return regions is None or region in regions


def bucket_name(stem: str, environment: str, code: str) -> str:
    return f"{stem}-{environment}-{code}"


def access_log_bucket_name(first_stem: str, environment: str, code: str) -> str:
    """The region's server access log bucket: `<org>-s3-logs-<env>-<region code>`, where `<org>`
    is the first bucket's stem without its last word (`example-org-uploads` -> `example-org`; a
    one-word stem stays whole). S3 names are global, so it keeps the organisation part the stems
    carry; shortened with a hash when the name would pass S3's 63 characters."""
    org = first_stem.rsplit("-", 1)[0] if "-" in first_stem else first_stem
    suffix = f"-s3-logs-{environment}-{code}"
    if len(org) + len(suffix) > S3_NAME_MAX:
        digest = hashlib.sha256(first_stem.encode()).hexdigest()[:8]
        org = f"{org[:S3_NAME_MAX - len(suffix) - 9].rstrip('-.')}-{digest}"
    return f"{org}{suffix}"


def s3_name_problem(name: str) -> Optional[str]:
    """Why S3 would refuse a general purpose bucket name, or None."""
    if not S3_NAME.match(name):
        return "S3 names are 3-63 characters of lowercase letters, digits, dots and hyphens, " \
               "starting and ending with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "S3 names cannot hold two adjacent periods or a period next to a hyphen"
    try:
        ipaddress.IPv4Address(name)
        return "S3 names cannot be IP addresses"
    except ValueError:
        pass
    for prefix in S3_RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"S3 reserves the prefix '{prefix}'"
    for suffix in S3_RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"S3 reserves the suffix '{suffix}'"
    return None


def _region_issues(key: str, regions: Optional[list[str]], cfg: StackConfig) -> list[ConfigIssue]:
    return [ConfigIssue(key, f"'{r}' is not one of this stack's regions") for r in regions or []
            if r not in cfg.region_names]


def _placement_issues(section: str, what: str, regions: Optional[list[str]], cfg: StackConfig) -> list[ConfigIssue]:
    """Where a database-tier service can live: this stack's regions, the database subnets, and a
    cluster whose nodes are the only clients its security group admits."""
    out = _region_issues(f"data.{section}.regions", regions, cfg)
    if not cfg.network.database_tier:
        out.append(ConfigIssue(f"data.{section}", f"{what} lives in the database subnets: set network.databaseTier: true"))
    if cfg.cluster is None:
        out.append(ConfigIssue(f"data.{section}", f"{what} admits only the EKS nodes: it needs `cluster`"))
    return out


def aurora_issues(cfg: StackConfig) -> list[ConfigIssue]:
    aurora = cfg.data.aurora
    if aurora is None:
        return []
    out = _placement_issues("aurora", "Aurora", aurora.regions, cfg)
    prod = cfg.environment == "prod"
    if prod and cfg.network.database_tier and cfg.network.az_count < 3:
        out.append(ConfigIssue("data.aurora", f"prod Aurora spreads over three AZs; network.azCount is "
                                              f"{cfg.network.az_count}"))
    if prod and aurora.backup_retention_days < 7:
        out.append(ConfigIssue("data.aurora.backupRetentionDays",
                               f"prod keeps backups at least 7 days; got {aurora.backup_retention_days}"))
    if prod and aurora.instances < 2:
        out.append(ConfigIssue("data.aurora.instances", "prod needs a reader to fail over to (2 or more)"))
    if aurora.global_database:
        if not in_regions(aurora.regions, cfg.hub.name):
            out.append(ConfigIssue("data.aurora.regions", f"a global database's primary is in the hub "
                                                          f"({cfg.hub.name}); list it"))
        # An Aurora global database requires memory-optimized instance classes, db.r* (db.r5 or
        # higher recommended) or db.x* (Aurora user guide, "Configuration requirements of an Amazon
        # Aurora global database", DB instance class requirements): no burstable db.t*.
        if not aurora.instance_class.startswith(("db.r", "db.x")):
            what = "burstable" if aurora.instance_class.startswith("db.t") else "not memory-optimized"
            out.append(ConfigIssue("data.aurora.instanceClass",
                                   f"Aurora global databases run on memory-optimized classes (db.r*, db.x*); "
                                   f"{aurora.instance_class} is {what}"))
    return out


def cache_issues(cfg: StackConfig) -> list[ConfigIssue]:
    cache = cfg.data.cache
    if cache is None:
        return []
    out = _placement_issues("cache", "the cache", cache.regions, cfg)
    if cache.automatic_failover and cache.replicas_per_shard == 0:
        out.append(ConfigIssue("data.cache.replicasPerShard",
                               "automatic failover needs a replica to fail over to; one node per shard cannot"))
    if cfg.environment == "prod" and not cache.automatic_failover:
        out.append(ConfigIssue("data.cache.automaticFailover", "prod caches fail over automatically"))
    # CreateReplicationGroup: "AutomaticFailoverEnabled must be enabled for Valkey or Redis OSS
    # (cluster mode enabled) replication groups".
    if cache.shards > 1 and not cache.automatic_failover:
        out.append(ConfigIssue("data.cache.automaticFailover",
                               f"cluster mode ({cache.shards} shards) needs automatic failover"))
    if cache_parameter_family(cache.engine, cache.engine_version) is None:
        out.append(ConfigIssue("data.cache.engineVersion",
                               f"{cache.engine} {cache.engine_version}: the cache authenticates with IAM (Valkey 7.2+, "
                               f"Redis OSS 7.x) and knows the parameter group families "
                               f"{', '.join(sorted(set(CACHE_PARAMETER_FAMILIES.values())))}"))
    return out


def storage_issues(cfg: StackConfig) -> list[ConfigIssue]:
    storage = cfg.data.storage
    if storage is None:
        return []
    out: list[ConfigIssue] = []
    for name in repeated(b.name for b in storage.buckets):
        out.append(ConfigIssue("data.storage.buckets", f"bucket '{name}' is declared twice"))
    for i, b in enumerate(storage.buckets):
        key = f"data.storage.buckets[{i}]"
        out += _region_issues(f"{key}.regions", b.regions, cfg)
        regions = [r.name for r in cfg.regions if in_regions(b.regions, r.name)]
        for code in sorted({region_short_code(r) for r in regions}):
            problem = s3_name_problem(bucket_name(b.name, cfg.environment, code))
            if problem:
                out.append(ConfigIssue(f"{key}.name", f"'{bucket_name(b.name, cfg.environment, code)}': {problem}"))
                break
        if b.cdn is not None and len(regions) != 1:
            out.append(ConfigIssue(f"{key}.regions", f"a bucket behind CloudFront lives in one region (the domain "
                                                     f"{b.cdn.domain} names one distribution); it lists {len(regions)}"))
    # each region's server access log bucket is named after the first bucket it holds
    for region in cfg.region_names:
        declared = [(i, b) for i, b in enumerate(storage.buckets) if in_regions(b.regions, region)]
        if not declared:
            continue
        code = region_short_code(region)
        log_bucket = access_log_bucket_name(declared[0][1].name, cfg.environment, code)
        problem = s3_name_problem(log_bucket)
        if problem is None and log_bucket in {bucket_name(b.name, cfg.environment, code) for _, b in declared}:
            problem = "it is the name of a declared bucket"
        if problem:
            out.append(ConfigIssue(f"data.storage.buckets[{declared[0][0]}].name",
                                   f"the {region} server access log bucket is named after this bucket "
                                   f"('{log_bucket}'): {problem}"))
    domains = [b.cdn.domain for b in storage.buckets if b.cdn]
    for d in repeated(domains):
        out.append(ConfigIssue("data.storage.buckets", f"domain '{d}' is served by two distributions"))
    return out


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    return aurora_issues(cfg) + cache_issues(cfg) + storage_issues(cfg) + messaging_issues(cfg)


def messaging_issues(cfg: StackConfig) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    msg = cfg.data.messaging
    if msg is None:
        return out
    for name in repeated(t.name for t in msg.topics):
        out.append(ConfigIssue("data.messaging.topics", f"topic '{name}' is declared twice"))
    for i, topic in enumerate(msg.topics):
        for name in repeated(q.name for q in topic.queues):
            out.append(ConfigIssue(f"data.messaging.topics[{i}].queues", f"queue '{name}' is declared twice"))
        for j, queue in enumerate(topic.queues):
            # The longest region code is 5 characters (apne2, usw2, ...): check the worst case.
            longest = f"{cfg.environment}-xxxxx-{topic.name}-{queue.name}-dlq"
            if len(longest) > SQS_NAME_MAX:
                out.append(ConfigIssue(f"data.messaging.topics[{i}].queues[{j}].name",
                                       f"'{longest}' would exceed SQS's {SQS_NAME_MAX}-character queue name limit"))
    return out + _region_issues("data.messaging.regions", msg.regions, cfg)

"""The data tier: what RDS, S3, ACM, CloudFront and FIS need in place first.

Sources (read 2026-11-26):
- Aurora global databases: a secondary cluster joins a global cluster whose primary is
  available with its writer (Aurora user guide, "Adding an AWS Region to an Amazon Aurora global
  database": the primary cluster and its instances must be available);
- RDS log exports: RDS writes to /aws/rds/cluster/<cluster>/<type> and creates the group on
  first write if it does not exist (Aurora user guide, "Publishing Aurora MySQL logs to
  CloudWatch Logs"); a LogGroup the stack creates afterwards fails with ResourceAlreadyExists;
- S3: concurrent configuration calls on one bucket fail with 409 OperationAborted
  (hashicorp/terraform-provider-aws#7628, #33552; pulumi/pulumi-aws#1570);
- CloudFront: "CloudFront only supports ACM certificates in the US East (N. Virginia) Region" and
  a distribution is refused a certificate that is not ISSUED (botocore cloudfront
  ViewerCertificate.ACMCertificateArn); standard logging v2 sources for CloudFront are created
  in us-east-1 (CloudFront developer guide, standard-logging.html);
- FIS: aws:rds:failover-db-cluster promotes a reader, so the cluster needs one; aws:elasticache:
  replicationgroup-interrupt-az-power needs a Multi-AZ replication group (FIS user guide,
  actions reference).
"""

from __future__ import annotations

from .graph import Graph, as_list, get, known
from .rule import readiness_rule

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL = "aws:rds/globalCluster:GlobalCluster"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
CERTIFICATE = "aws:acm/certificate:Certificate"
VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
LOG_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"
TEMPLATE = "aws:fis/experimentTemplate:ExperimentTemplate"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_SETTINGS = (
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLogging:BucketLogging",
)
CLOUDFRONT_REGION = "us-east-1"


def _region(g: Graph, r):
    provider = g.provider_of(r)
    return get(provider.props, "region") if provider is not None else None


def _instances_of(g: Graph, cluster) -> list:
    return [i for i in g.of_type(INSTANCE) if cluster in g.prop_deps(i, "clusterIdentifier", (CLUSTER,))]


def _rds_log_groups_first(g: Graph):
    groups = {get(lg.props, "name"): lg for lg in g.of_type(LOG_GROUP) if known(get(lg.props, "name"))}
    for c in g.of_type(CLUSTER):
        ident = get(c.props, "clusterIdentifier")
        if not known(ident):
            continue
        for kind in as_list(get(c.props, "enabledCloudwatchLogsExports")):
            lg = groups.get(f"/aws/rds/cluster/{ident}/{kind}")
            if lg is not None and lg.urn not in g.waits_for(c):
                yield (f"cluster {ident} exports {kind} logs before its log group {lg.name} exists: RDS creates the "
                       "group on first write and the stack's LogGroup then fails with ResourceAlreadyExists", c.urn)


def _secondaries_after_primary(g: Graph):
    for c in g.of_type(CLUSTER):
        globals_ = g.prop_deps(c, "globalClusterIdentifier", (GLOBAL,))
        if not globals_ or get(c.props, "masterUsername"):
            continue  # not a member, or the primary (it carries the master user)
        primaries = [p for p in g.of_type(CLUSTER) if p is not c and get(p.props, "masterUsername")
                     and set(g.prop_deps(p, "globalClusterIdentifier", (GLOBAL,))) & set(globals_)]
        if not primaries:
            yield (f"secondary cluster {c.name} joins a global cluster with no primary in this stack: AWS refuses "
                   "a secondary before the primary exists", c.urn)
            continue
        writers = [i for p in primaries for i in _instances_of(g, p)]
        if not any(w.urn in g.waits_for(c) for w in writers):
            yield (f"secondary cluster {c.name} does not wait for the primary's writer instance: AWS adds a "
                   "secondary region only once the primary cluster and its writer are available", c.urn)


def _cloudfront_certificates(g: Graph):
    for d in g.of_type(DISTRIBUTION):
        cert = get(d.props, "viewerCertificate", "acmCertificateArn")
        if cert is None:
            continue
        deps = g.prop_deps(d, "viewerCertificate")
        validations = [v for v in deps if v.resource_type == VALIDATION]
        certs = [c for c in deps if c.resource_type == CERTIFICATE]
        certs += [c for v in validations for c in g.prop_deps(v, "certificateArn", (CERTIFICATE,))]
        if certs and not validations:
            yield (f"distribution {d.name} takes its certificate before it is validated: CloudFront refuses a "
                   "certificate that is not ISSUED (use the CertificateValidation's certificateArn)", d.urn)
        for c in certs:
            region = _region(g, c)
            if known(region) and region != CLOUDFRONT_REGION:
                yield (f"certificate {c.name} of distribution {d.name} is issued in {region}: CloudFront only "
                       f"takes ACM certificates from {CLOUDFRONT_REGION}", c.urn)


def _cloudfront_log_sources(g: Graph):
    for s in g.of_type(LOG_SOURCE):
        if not g.prop_deps(s, "resourceArn", (DISTRIBUTION,)):
            continue
        region = _region(g, s)
        if known(region) and region != CLOUDFRONT_REGION:
            yield (f"log delivery source {s.name} for a CloudFront distribution is in {region}: CloudWatch Logs "
                   f"takes CloudFront's access log sources only in {CLOUDFRONT_REGION}", s.urn)


def _bucket_settings_serialized(g: Graph):
    by_bucket: dict[str, list] = {}
    for r in g.of_type(*BUCKET_SETTINGS):
        for b in g.prop_deps(r, "bucket", (BUCKET,)):
            by_bucket.setdefault(b.urn, []).append(r)
    for a, b in g.concurrent_pairs(by_bucket.values()):
        yield (f"{a.resource_type.split(':')[-1]} {a.name} and {b.resource_type.split(':')[-1]} {b.name} "
               "configure the same bucket at once: S3 answers one of them 409 OperationAborted", b.urn)


def _fis_data_targets(g: Graph):
    groups = list(g.of_type(REPLICATION_GROUP))
    for t in g.of_type(TEMPLATE):
        for target in as_list(get(t.props, "targets")):
            kind = get(target, "resourceType")
            if kind == "aws:rds:cluster":
                for c in g.prop_deps(t, "targets", (CLUSTER,)):
                    if len(_instances_of(g, c)) < 2:
                        yield (f"{t.name} fails over cluster {c.name}, which has no reader to promote", t.urn)
            elif kind == "aws:elasticache:replicationgroup":
                wanted = {(get(p, "key"), get(p, "value")) for p in as_list(get(target, "resourceTags"))}
                for rg in groups:
                    tags = get(rg.props, "tags") or {}
                    if wanted and all(tags.get(k) == v for k, v in wanted) and (
                            get(rg.props, "multiAzEnabled") is not True
                            or get(rg.props, "automaticFailoverEnabled") is not True):
                        yield (f"{t.name} cuts an AZ's power under replication group {rg.name}, which is not "
                               "Multi-AZ with automatic failover: FIS refuses it", t.urn)


POLICIES = [
    readiness_rule(
        "rds-log-groups-before-cluster",
        "An Aurora cluster exporting logs waits for the stack's log groups of those logs.",
        "make the cluster depend on its /aws/rds/cluster/<id>/<type> log groups",
        _rds_log_groups_first),
    readiness_rule(
        "aurora-secondary-after-primary",
        "A global database's secondary cluster is created after the primary and its writer instance.",
        "make the secondary depend on the primary cluster and its first instance",
        _secondaries_after_primary),
    readiness_rule(
        "cloudfront-certificate-issued-in-us-east-1",
        "A distribution's ACM certificate is issued in us-east-1 and validated before the distribution uses it.",
        "request the certificate on a us-east-1 provider and pass the CertificateValidation's certificateArn",
        _cloudfront_certificates),
    readiness_rule(
        "cloudfront-log-source-in-us-east-1",
        "CloudFront access logs (standard logging v2) are set up in us-east-1.",
        "create the LogDeliverySource (and its destination and delivery) on a us-east-1 provider",
        _cloudfront_log_sources),
    readiness_rule(
        "s3-bucket-settings-one-at-a-time",
        "A bucket's configuration resources are applied one after another.",
        "chain them with dependsOn (ownership, public access block, versioning, encryption, lifecycle, policy)",
        _bucket_settings_serialized),
    readiness_rule(
        "fis-data-targets-can-fail-over",
        "An Aurora failover experiment targets a cluster with a reader; an AZ power experiment targets a "
        "Multi-AZ replication group with automatic failover.",
        "add a reader instance, or turn on Multi-AZ and automatic failover",
        _fis_data_targets),
]

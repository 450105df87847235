"""Data tier, object storage: S3 buckets per region, one optionally served through CloudFront.

Every bucket: versioned, SSE-KMS with the region's storage key (S3 Bucket Keys on), all four
public access blocks, ACLs off (BucketOwnerEnforced), a policy that refuses any request not
over TLS, a lifecycle that moves current objects to STANDARD_IA, expires old versions and
aborts stale multipart uploads, and server access logs to the region's log bucket (below).
The bucket's sub-resources are applied one after another: S3
answers concurrent configuration calls on one bucket with 409 OperationAborted
(hashicorp/terraform-provider-aws#7628, #33552; pulumi/pulumi-aws#1570).

With `cdn`, CloudFront serves the bucket through an origin access control (OAC; the legacy OAI
cannot read SSE-KMS objects: CloudFront developer guide, "Restrict access to an Amazon S3
origin"), and the bucket policy admits cloudfront.amazonaws.com only for that distribution
(AWS:SourceArn). How CloudFront's global parts are handled:
- CloudFront is a global service: the SDK endpoint rules send every region's calls to
  cloudfront.amazonaws.com signed for us-east-1 (botocore cloudfront endpoint-rule-set-1), and
  the Terraform provider builds its CloudFront client with the provider's region
  (internal/service/cloudfront NewClient@v6.58.0), so any provider could create the distribution.
- Its viewer certificate must be an ACM certificate in us-east-1 (CloudFront API,
  ViewerCertificate.ACMCertificateArn), and standard logging (v2) must be set up through the
  CloudWatch Logs API in us-east-1 (CloudFront developer guide, "Configure standard logging (v2)";
  elsewhere PutDeliverySource fails "not supported for this LogType in region",
  terraform-aws-modules/terraform-aws-cloudfront#197).
So the tier makes one us-east-1 provider (components/platform/providers.py) and puts every
CloudFront-related resource on it: certificate, validation records, OAC, distribution, alias
records, the access-log group, its key, the log delivery, and the web ACL with its log group.
Route 53 is global as well.

Access logs use standard logging (v2), CloudWatch Logs vended delivery to a log group in
us-east-1: legacy logging writes to S3 through ACLs, which a BucketOwnerEnforced bucket refuses
(CloudFront developer guide, "Configure standard logging (legacy)").

Each distribution has a WAFv2 web ACL in front (DistributionConfig.WebACLId takes a WAFv2 ACL's
ARN: botocore cloudfront model). Its scope is CLOUDFRONT, which WAF serves only from us-east-1
("To work with CloudFront, you must also specify the Region US East (N. Virginia)": botocore
wafv2 CreateWebACL.Scope), so it is on the us-east-1 provider too. Rules, in order: a per-IP
rate-based block, then the AWS managed groups AWSManagedRulesCommonRuleSet (700 WCU) and
AWSManagedRulesKnownBadInputsRuleSet (200 WCU; vendor AWS: WAF developer guide, "Baseline rule
groups"); CloudWatch metrics and sampled requests on. Its logs go to a CloudWatch log group in
us-east-1 named aws-waf-logs-* (WAF developer guide, "Sending web ACL traffic logs to an Amazon
CloudWatch Logs log group": the name must start with aws-waf-logs-, the group in the web ACL's
Region and account), encrypted with the same us-east-1 key as the access logs. The deployer needs
wafv2:PutLoggingConfiguration and logs:CreateLogDelivery, logs:PutResourcePolicy,
logs:DescribeResourcePolicies, logs:DescribeLogGroups on the group (same guide, "Permissions to
publish logs to CloudWatch Logs"): putting the logging configuration writes the group's resource
policy for the delivery.

S3 server access logs: every bucket of the tier logs to one log bucket per region (S3 delivers
only to a bucket in the source's Region and account: S3 user guide, "Enabling Amazon S3 server
access logging"), under `<source bucket>/` with partitioned keys. Delivery is granted by the log
bucket's policy to the logging.s3.amazonaws.com service principal, one statement per source
bucket with aws:SourceArn and aws:SourceAccount (same guide, "Permissions for log delivery"):
with BucketOwnerEnforced, ACL grants are not possible. The log bucket is encrypted with SSE-S3:
"You can use default bucket encryption on the destination bucket only if you use server-side
encryption with Amazon S3 managed keys (SSE-S3) ... Default server-side encryption with AWS Key
Management Service (AWS KMS) keys (SSE-KMS) is not supported" (same guide). It is versioned (logs
are audit evidence: a delete or overwrite keeps the previous version for
ACCESS_LOG_NONCURRENT_DAYS), its logs expire after the stack's log retention, and it is not itself
logged (the guide: "Your destination bucket should not have server access logging enabled")."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from .config.data import access_log_bucket_name, bucket_name, in_regions
from .iam import key_admin_statement
from .naming import RegionContext, partition_of
from .stack import StackSpec
from .wiring import RegionWiring

# CloudFront's managed cache policy "CachingOptimized" (CloudFront developer guide, "Use managed
# cache policies"): no query strings or cookies in the key, compressed objects cached apart.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
# The managed response headers policy "SecurityHeadersPolicy" (CloudFront developer guide, "Use
# managed response headers policies", read 2026-11-26): Strict-Transport-Security (one year),
# X-Content-Type-Options nosniff, X-Frame-Options SAMEORIGIN, Referrer-Policy
# strict-origin-when-cross-origin, X-XSS-Protection.
SECURITY_HEADERS_POLICY_ID = "67f7725c-6f97-4210-82d7-5512b31e9d03"
# The oldest security policy we serve; newer ones (botocore cloudfront MinimumProtocolVersion):
# TLSv1.2_2025, TLSv1.3_2025. It only applies with a custom certificate: with the default
# *.cloudfront.net one CloudFront uses TLSv1 whatever is set (ViewerCertificate.MinimumProtocolVersion).
MINIMUM_PROTOCOL_VERSION = "TLSv1.2_2021"
# Parts of a multipart upload nobody completed cost storage forever unless aborted.
ABORT_MULTIPART_AFTER_DAYS = 7
# CloudWatch Logs delivery sources/destinations: 1-60 characters of [\w-] (logs PutDeliverySource).
DELIVERY_NAME_MAX = 60
# CloudFront OAC names: up to 64 characters (OriginAccessControlConfig.Name).
OAC_NAME_MAX = 64
# What CloudFront serves for the root URL (DistributionConfig.DefaultRootObject; no leading slash).
DEFAULT_ROOT_OBJECT = "index.html"
# WAFv2 names (web ACL, rule): 1-128 characters of [\w-] (botocore wafv2 EntityName); metric
# names 1-255 of [\w#:.\-/] (MetricName).
WAF_NAME_MAX = 128
WAF_METRIC_MAX = 255
# WAF logs to CloudWatch only into groups whose name starts with this (WAF developer guide,
# "Sending web ACL traffic logs to an Amazon CloudWatch Logs log group").
WAF_LOG_GROUP_PREFIX = "aws-waf-logs-"
# The CDN web ACL's rules after the rate-based one (WAF developer guide, "Baseline rule groups":
# VendorName AWS; the core rule set takes 700 WCU, known bad inputs 200 WCU).
CDN_MANAGED_RULE_GROUPS = ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
# Look-back of the rate-based rule, seconds (RateBasedStatement.EvaluationWindowSec: 60, 120,
# 300 or 600).
CDN_RATE_WINDOW_SECONDS = 300
# S3 general purpose bucket names: 3-63 characters (S3 user guide, "General purpose bucket naming rules").
# Server access log keys: [prefix][SourceAccountId]/[SourceRegion]/[SourceBucket]/[YYYY]/[MM]/[DD]/...
# dated by the day the requests were made (botocore s3 PartitionedPrefix.PartitionDateSource:
# EventTime | DeliveryTime), which is what Athena partitions on.
ACCESS_LOG_PARTITION_DATE_SOURCE = "EventTime"
# A deleted or overwritten log object stays this long as a noncurrent version.
ACCESS_LOG_NONCURRENT_DAYS = 30
# The S3 service principal that delivers server access logs (S3 user guide, "Permissions for log delivery").
S3_LOG_DELIVERY_PRINCIPAL = "logging.s3.amazonaws.com"


@dataclass(frozen=True, kw_only=True)
class CdnArgs:
    domain: str
    hosted_zone_id: str
    price_class: str
    log_retention_days: int
    rate_limit: int  # requests per client IP per 5 minutes before WAF blocks


@dataclass(frozen=True, kw_only=True)
class StorageBucketArgs:
    stem: str  # the config name; the key of `buckets`
    name: str  # the S3 name: <stem>-<env>-<region code>
    infrequent_access_after_days: Optional[int]
    noncurrent_version_expiry_days: int
    cdn: Optional[CdnArgs] = None


@dataclass(frozen=True, kw_only=True)
class StorageArgs:
    ctx: RegionContext
    account: pulumi.Input[str]
    buckets: tuple[StorageBucketArgs, ...]
    access_log_bucket: str  # the region's server access log bucket (access_log_bucket_name)
    access_log_retention_days: int  # the stack's log retention (network.flowLogRetentionDays)
    protect: bool = False  # prod: buckets and keys


def storage_args(spec: StackSpec, w: RegionWiring) -> Optional[StorageArgs]:
    cfg = spec.config
    storage = cfg.data.storage
    if storage is None:
        return None
    declared = [(i, b) for i, b in enumerate(storage.buckets) if in_regions(b.regions, w.ctx.region)]
    buckets = tuple(StorageBucketArgs(
        stem=b.name, name=bucket_name(b.name, w.ctx.environment, w.ctx.code),
        infrequent_access_after_days=b.infrequent_access_after_days,
        noncurrent_version_expiry_days=b.noncurrent_version_expiry_days,
        cdn=CdnArgs(domain=b.cdn.domain, hosted_zone_id=b.cdn.hosted_zone_id, price_class=b.cdn.price_class,
                    log_retention_days=b.cdn.log_retention_days,
                    rate_limit=b.cdn.requests_per_five_minutes) if b.cdn else None,
    ) for _, b in declared)
    if not buckets:
        return None
    # config rules (storage_issues) have checked this name in every region
    log_bucket = access_log_bucket_name(declared[0][1].name, w.ctx.environment, w.ctx.code)
    return StorageArgs(ctx=w.ctx, account=w.account, buckets=buckets, access_log_bucket=log_bucket,
                       access_log_retention_days=cfg.network.flow_log_retention_days,
                       protect=cfg.environment == "prod")


def bucket_arn(name: str, region: str) -> str:
    """Known before the bucket exists, so policies read plainly in a preview."""
    return f"arn:{partition_of(region)}:s3:::{name}"


def limited_name(text: str, limit: int) -> str:
    """A name of [A-Za-z0-9_-] within `limit`, shortened with a hash when it must be."""
    clean = re.sub(r"[^A-Za-z0-9_-]", "-", text)
    if len(clean) <= limit:
        return clean
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"{clean[:limit - 9]}-{digest}"


def storage_key_policy(account: str, partition: str, distribution_arns: Sequence[str]) -> str:
    statements = [key_admin_statement(account, partition)]
    if distribution_arns:
        # OAC reading SSE-KMS objects needs the key (CloudFront developer guide, "Restrict access to
        # an Amazon S3 origin", SSE-KMS). The guide's statement adds kms:Encrypt and
        # kms:GenerateDataKey* for uploads through CloudFront; these distributions only GET and HEAD.
        statements.append({
            "Sid": "CloudFrontDecryptsForItsDistributions", "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "kms:Decrypt", "Resource": "*",
            "Condition": {"StringEquals": {"AWS:SourceArn": sorted(distribution_arns)}}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def bucket_policy(arn: str, distribution_arn: Optional[str] = None) -> str:
    statements = [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    if distribution_arn:
        statements.append({
            "Sid": "CloudFrontReadsThroughItsOac", "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
            "Resource": f"{arn}/*", "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def access_log_bucket_policy(arn: str, account: str, source_buckets: Sequence[str], partition: str) -> str:
    """TLS only, and S3's log delivery (logging.s3.amazonaws.com) may put objects for these source
    buckets only, each under its own `<source>/` prefix, from this account (S3 user guide,
    "Permissions for log delivery": s3:PutObject, aws:SourceArn, aws:SourceAccount)."""
    statements = json.loads(bucket_policy(arn))["Statement"]
    for source in sorted(source_buckets):
        statements.append({
            "Sid": "ServerAccessLogsFrom" + "".join(w.capitalize() for w in re.split(r"[^a-z0-9]+", source) if w),
            "Effect": "Allow", "Principal": {"Service": S3_LOG_DELIVERY_PRINCIPAL}, "Action": "s3:PutObject",
            "Resource": f"{arn}/{access_log_prefix(source)}*",
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::{source}"},
                          "StringEquals": {"aws:SourceAccount": account}}})
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)


def access_log_prefix(source_bucket: str) -> str:
    """Where a bucket's server access logs go in the log bucket (PutBucketLogging TargetPrefix)."""
    return f"{source_bucket}/"


def waf_visibility(metric: str) -> dict:
    """CloudWatch metrics and sampled requests on, under `metric` (VisibilityConfig)."""
    return {"cloudwatch_metrics_enabled": True, "sampled_requests_enabled": True,
            "metric_name": metric[:WAF_METRIC_MAX]}


def waf_rules(metric_prefix: str, rate_limit: int, managed_groups: Sequence[str]) -> list[dict]:
    """A per-client-IP rate-based block first, then each AWS managed rule group with its own
    actions (override_action none); the same shape as the ingress ACL (components/scaling.py)."""
    rules = [{"name": "rate-limit-per-ip", "priority": 0, "action": {"block": {}},
              "statement": {"rate_based_statement": {"limit": rate_limit, "aggregate_key_type": "IP",
                                                     "evaluation_window_sec": CDN_RATE_WINDOW_SECONDS}},
              "visibility_config": waf_visibility(f"{metric_prefix}-rate-limit")}]
    for i, group in enumerate(managed_groups, start=1):
        rules.append({"name": group, "priority": i, "override_action": {"none": {}},
                      "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
                      "visibility_config": waf_visibility(f"{metric_prefix}-{group}")})
    return rules


def waf_log_group_name(ctx: RegionContext, stem: str) -> str:
    return f"{WAF_LOG_GROUP_PREFIX}{ctx.environment}-{ctx.code}-cdn-{stem}"


def cdn_logs_key_policy(account: str, partition: str, region: str, log_group_arns: Sequence[str]) -> str:
    """CloudWatch Logs of `region` encrypts the access-log and WAF log groups (CloudWatch Logs user guide,
    "Encrypt log data in CloudWatch Logs using AWS KMS": principal logs.<region>.amazonaws.com,
    encryption context aws:logs:arn)."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        key_admin_statement(account, partition),
        {"Sid": "CloudWatchLogsUse", "Effect": "Allow",
         "Principal": {"Service": f"logs.{region}.amazonaws.com"},
         "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
         "Resource": "*",
         "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": sorted(log_group_arns)}}},
    ]}, sort_keys=True)


class StorageTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: StorageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:storage:StorageTier", name, None, opts)
        ctx = self._ctx = args.ctx
        partition = partition_of(ctx.region)
        self.buckets: dict[str, aws.s3.Bucket] = {}
        self.bucket_names: dict[str, str] = {}
        self.distributions: dict[str, aws.cloudfront.Distribution] = {}
        for b in args.buckets:
            self.bucket_names[b.stem] = b.name
            # force_destroy off: deleting a bucket that holds objects fails instead of emptying it.
            self.buckets[b.stem] = aws.s3.Bucket(
                ctx.name("bucket", b.stem), bucket=b.name, force_destroy=False, tags=ctx.tags(f"bucket-{b.stem}"),
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect))

        self.web_acls: dict[str, aws.wafv2.WebAcl] = {}
        cdn_buckets = [b for b in args.buckets if b.cdn]
        if cdn_buckets:
            # components.platform (region.py) imports this module: import the provider helper on use.
            from .platform.providers import GLOBAL_SERVICES_REGION, global_services_provider
            self.global_provider = global_services_provider(ctx, self)
            self._global = RegionContext(GLOBAL_SERVICES_REGION, ctx.environment, ctx.owner, ctx.account)
            log_group_names = {b.stem: self._global.log_group_name(f"cloudfront/{ctx.code}/{b.stem}")
                               for b in cdn_buckets}
            waf_log_groups = {b.stem: waf_log_group_name(ctx, b.stem) for b in cdn_buckets}
            self.cdn_logs_key = self._cdn_logs_key(args, [*log_group_names.values(), *waf_log_groups.values()])
            for b in cdn_buckets:
                self.web_acls[b.stem] = self._cdn_waf(b, waf_log_groups[b.stem])
                self.distributions[b.stem] = self._cdn(b, log_group_names[b.stem], self.web_acls[b.stem])

        # One key for the region's buckets; it names the distributions that may decrypt, so it
        # comes after them (and the buckets' encryption after it: no cycle).
        dist_arns = [d.arn for d in self.distributions.values()]
        self.key = aws.kms.Key(
            ctx.name("storage"), description=f"{ctx.environment} S3 encryption in {ctx.region}",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=pulumi.Output.all(args.account, *dist_arns).apply(
                lambda v: storage_key_policy(v[0], partition, v[1:])),
            tags=ctx.tags("storage-key"), opts=pulumi.ResourceOptions(parent=self, protect=args.protect))
        aws.kms.Alias(ctx.name("storage"), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/storage",
                      target_key_id=self.key.key_id, opts=pulumi.ResourceOptions(parent=self))

        log_bucket_ready = self._access_log_bucket(args)
        for b in args.buckets:
            self._configure(b, self.buckets[b.stem], self.distributions.get(b.stem), log_bucket_ready)
        self.register_outputs({"bucketNames": self.bucket_names, "accessLogBucket": args.access_log_bucket,
                               "distributionDomains": {k: d.domain_name for k, d in self.distributions.items()},
                               "webAclArns": {k: a.arn for k, a in self.web_acls.items()}})

    def _access_log_bucket(self, args: StorageArgs) -> aws.s3.BucketPolicy:
        """The region's server access log bucket, configured one call at a time like the others;
        returns its policy, the last step, which the buckets' logging waits for."""
        ctx = self._ctx
        name = args.access_log_bucket
        partition = partition_of(ctx.region)
        bucket = self.access_log_bucket = aws.s3.Bucket(
            ctx.name("access-logs"), bucket=name, force_destroy=False, tags=ctx.tags("s3-access-logs"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect))

        def after(previous: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=[previous])

        ownership = aws.s3.BucketOwnershipControls(
            ctx.name("access-logs-ownership"), bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"},
            opts=pulumi.ResourceOptions(parent=self))
        public = aws.s3.BucketPublicAccessBlock(
            ctx.name("access-logs-public-access"), bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=after(ownership))
        versioning = aws.s3.BucketVersioning(
            ctx.name("access-logs-versioning"), bucket=bucket.id, versioning_configuration={"status": "Enabled"},
            opts=after(public))
        # SSE-S3: server access log delivery supports no other default encryption (module doc);
        # the security rule s3-encryption-kms admits AES256 for log targets only (policy/rules/storage.py).
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            ctx.name("access-logs-encryption"), bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=after(versioning))
        # Expiring a current version of a versioned bucket leaves a delete marker; S3 removes it once
        # no version is left behind it (S3 user guide, "Expiring objects").
        lifecycle = aws.s3.BucketLifecycleConfiguration(
            ctx.name("access-logs-lifecycle"), bucket=bucket.id, rules=[{
                "id": "expire-access-logs", "status": "Enabled", "filter": {},
                "expiration": {"days": args.access_log_retention_days},
                "noncurrent_version_expiration": {"noncurrent_days": ACCESS_LOG_NONCURRENT_DAYS},
                "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_AFTER_DAYS}}],
            opts=after(encryption))
        arn = bucket_arn(name, ctx.region)
        sources = [b.name for b in args.buckets]
        return aws.s3.BucketPolicy(
            ctx.name("access-logs-policy"), bucket=bucket.id,
            policy=pulumi.Output.from_input(args.account).apply(
                lambda account: access_log_bucket_policy(arn, account, sources, partition)),
            opts=after(lifecycle))

    def _configure(self, b: StorageBucketArgs, bucket: aws.s3.Bucket,
                   distribution: Optional[aws.cloudfront.Distribution], log_bucket_ready: aws.s3.BucketPolicy) -> None:
        """The bucket's settings, one call at a time (see the module doc)."""
        ctx = self._ctx

        def after(previous: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=[previous])

        # OAC needs BucketOwnerEnforced (CloudFront developer guide, "Restrict access to an Amazon S3 origin").
        ownership = aws.s3.BucketOwnershipControls(
            ctx.name("bucket-ownership", b.stem), bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"}, opts=pulumi.ResourceOptions(parent=self))
        public = aws.s3.BucketPublicAccessBlock(
            ctx.name("bucket-public-access", b.stem), bucket=bucket.id, block_public_acls=True,
            block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True, opts=after(ownership))
        versioning = aws.s3.BucketVersioning(
            ctx.name("bucket-versioning", b.stem), bucket=bucket.id,
            versioning_configuration={"status": "Enabled"}, opts=after(public))
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            ctx.name("bucket-encryption", b.stem), bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                                "kms_master_key_id": self.key.arn},
                    # S3 Bucket Keys: far fewer KMS requests (S3 user guide, "Reducing the cost of SSE-KMS").
                    "bucket_key_enabled": True}],
            opts=after(versioning))
        rule: dict = {
            "id": "tiering-and-cleanup", "status": "Enabled", "filter": {},
            "noncurrent_version_expiration": {"noncurrent_days": b.noncurrent_version_expiry_days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_AFTER_DAYS},
            # Delete markers left with no versions behind them go too.
            "expiration": {"expired_object_delete_marker": True},
        }
        if b.infrequent_access_after_days is not None:
            rule["transitions"] = [{"days": b.infrequent_access_after_days, "storage_class": "STANDARD_IA"}]
        # Noncurrent-version rules act on a versioned bucket: after versioning (chain above).
        lifecycle = aws.s3.BucketLifecycleConfiguration(
            ctx.name("bucket-lifecycle", b.stem), bucket=bucket.id, rules=[rule], opts=after(encryption))
        arn = bucket_arn(b.name, ctx.region)
        policy = (distribution.arn.apply(lambda d: bucket_policy(arn, d)) if distribution
                  else pulumi.Output.from_input(bucket_policy(arn)))
        bucket_policy_ = aws.s3.BucketPolicy(ctx.name("bucket-policy", b.stem), bucket=bucket.id, policy=policy,
                                             opts=after(lifecycle))
        # Server access logs to the region's log bucket, once its policy admits this bucket's delivery.
        aws.s3.BucketLogging(
            ctx.name("bucket-logging", b.stem), bucket=bucket.id, target_bucket=self.access_log_bucket.id,
            target_prefix=access_log_prefix(b.name),
            target_object_key_format={"partitioned_prefix": {
                "partition_date_source": ACCESS_LOG_PARTITION_DATE_SOURCE}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[bucket_policy_, log_bucket_ready]))

    def _cdn_logs_key(self, args: StorageArgs, log_group_names: Sequence[str]) -> aws.kms.Key:
        ctx, g = self._ctx, self._global
        partition = partition_of(g.region)
        on_global = pulumi.ResourceOptions(parent=self, provider=self.global_provider)
        key = aws.kms.Key(
            ctx.name("cdn-logs"), description=f"{ctx.environment} CloudFront access logs of {ctx.region}'s buckets",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=pulumi.Output.from_input(args.account).apply(lambda a: cdn_logs_key_policy(
                a, partition, g.region, [f"arn:{partition}:logs:{g.region}:{a}:log-group:{n}"
                                         for n in log_group_names])),
            tags=g.tags("cdn-logs-key"),
            opts=pulumi.ResourceOptions.merge(on_global, pulumi.ResourceOptions(protect=args.protect)))
        aws.kms.Alias(ctx.name("cdn-logs"), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/cdn-logs",
                      target_key_id=key.key_id, opts=on_global)
        return key

    def _cdn_waf(self, b: StorageBucketArgs, log_group_name: str) -> aws.wafv2.WebAcl:
        """The distribution's web ACL (CLOUDFRONT scope, us-east-1) and its logging (module doc)."""
        ctx, g, cdn = self._ctx, self._global, b.cdn
        assert cdn is not None
        on_global = pulumi.ResourceOptions(parent=self, provider=self.global_provider)
        name = limited_name(f"{ctx.environment}-{ctx.code}-cdn-{b.stem}", WAF_NAME_MAX)
        acl = aws.wafv2.WebAcl(
            ctx.name("cdn-waf", b.stem), name=name, scope="CLOUDFRONT",
            description=f"Filters requests to {cdn.domain} before CloudFront serves them",
            default_action={"allow": {}}, rules=waf_rules(name, cdn.rate_limit, CDN_MANAGED_RULE_GROUPS),
            visibility_config=waf_visibility(name), tags=g.tags(f"cdn-waf-{b.stem}"), opts=on_global)
        logs = aws.cloudwatch.LogGroup(
            ctx.name("cdn-waf-logs", b.stem), name=log_group_name, retention_in_days=cdn.log_retention_days,
            kms_key_id=self.cdn_logs_key.arn, tags=g.tags(f"cdn-waf-logs-{b.stem}"), opts=on_global)
        # The Authorization header never reaches the logs (as on the ingress ACL).
        aws.wafv2.WebAclLoggingConfiguration(
            ctx.name("cdn-waf-logging", b.stem), resource_arn=acl.arn, log_destination_configs=[logs.arn],
            redacted_fields=[{"single_header": {"name": "authorization"}}], opts=on_global)
        return acl

    def _cdn(self, b: StorageBucketArgs, log_group_name: str, web_acl: aws.wafv2.WebAcl) -> aws.cloudfront.Distribution:
        ctx, g, cdn = self._ctx, self._global, b.cdn
        assert cdn is not None
        on_global = pulumi.ResourceOptions(parent=self, provider=self.global_provider)
        bucket = self.buckets[b.stem]

        # The viewer certificate: ACM in us-east-1, validated through the stack's Route 53 zone.
        cert = aws.acm.Certificate(
            ctx.name("cdn-cert", b.stem), domain_name=cdn.domain, validation_method="DNS",
            tags=g.tags(f"cdn-cert-{b.stem}"), opts=on_global)
        option = cert.domain_validation_options.apply(lambda opts: opts[0])
        record = aws.route53.Record(
            ctx.name("cdn-cert-validation", b.stem), zone_id=cdn.hosted_zone_id,
            name=option.resource_record_name, type=option.resource_record_type,
            records=[option.resource_record_value], ttl=300,
            # A reissued certificate for the same name asks for the same record.
            allow_overwrite=True, opts=on_global)
        # The distribution needs an ISSUED certificate; this waits for it.
        validation = aws.acm.CertificateValidation(
            ctx.name("cdn-cert-validation", b.stem), certificate_arn=cert.arn,
            validation_record_fqdns=[record.fqdn], opts=on_global)

        oac = aws.cloudfront.OriginAccessControl(
            ctx.name("cdn-oac", b.stem), name=limited_name(f"{ctx.environment}-{ctx.code}-{b.stem}", OAC_NAME_MAX),
            description=f"CloudFront reads {b.name} signed (SigV4)",
            origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4",
            opts=on_global)
        origin_id = f"s3-{b.name}"
        distribution = aws.cloudfront.Distribution(
            ctx.name("cdn", b.stem), enabled=True, comment=f"{ctx.environment} {cdn.domain} from {b.name}"[:128],
            aliases=[cdn.domain], is_ipv6_enabled=True, http_version="http2and3", price_class=cdn.price_class,
            default_root_object=DEFAULT_ROOT_OBJECT, web_acl_id=web_acl.arn,
            origins=[{"domain_name": bucket.bucket_regional_domain_name, "origin_id": origin_id,
                      "origin_access_control_id": oac.id}],
            default_cache_behavior={
                "target_origin_id": origin_id, "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
                # HTTPS to viewers means HTTPS to S3 too: CloudFront forwards to an S3 origin with the
                # viewer's protocol (developer guide, "How CloudFront processes HTTP and HTTPS
                # requests"), and the bucket policy denies anything else.
                "viewer_protocol_policy": "redirect-to-https",
                "cache_policy_id": CACHING_OPTIMIZED_POLICY_ID, "compress": True,
                "response_headers_policy_id": SECURITY_HEADERS_POLICY_ID},
            restrictions={"geo_restriction": {"restriction_type": "none", "locations": []}},
            viewer_certificate={"acm_certificate_arn": validation.certificate_arn, "ssl_support_method": "sni-only",
                                "minimum_protocol_version": MINIMUM_PROTOCOL_VERSION},
            tags=g.tags(f"cdn-{b.stem}"), opts=on_global)

        # Alias records; CloudFront targets cannot evaluate target health (Route 53 AliasTarget).
        for record_type in ("A", "AAAA"):
            aws.route53.Record(
                ctx.name("cdn-alias", b.stem, record_type.lower()), zone_id=cdn.hosted_zone_id, name=cdn.domain,
                type=record_type, aliases=[{"name": distribution.domain_name, "zone_id": distribution.hosted_zone_id,
                                            "evaluate_target_health": False}], opts=on_global)

        self._access_logs(b, cdn, distribution, log_group_name)
        return distribution

    def _access_logs(self, b: StorageBucketArgs, cdn: CdnArgs, distribution: aws.cloudfront.Distribution,
                     log_group_name: str) -> None:
        """Standard logging (v2): delivery source (the distribution) -> destination (a log group),
        all in us-east-1. CloudWatch Logs adds the log group's resource policy for
        delivery.logs.amazonaws.com when the delivery is created (CloudWatch Logs user guide,
        "Logs sent to CloudWatch Logs" [V2]); the deployer needs logs:PutResourcePolicy for that."""
        ctx, g = self._ctx, self._global
        on_global = pulumi.ResourceOptions(parent=self, provider=self.global_provider)
        group = aws.cloudwatch.LogGroup(
            ctx.name("cdn-logs", b.stem), name=log_group_name, retention_in_days=cdn.log_retention_days,
            kms_key_id=self.cdn_logs_key.arn, tags=g.tags(f"cdn-logs-{b.stem}"), opts=on_global)
        delivery_name = limited_name(f"{ctx.environment}-{ctx.code}-cdn-{b.stem}", DELIVERY_NAME_MAX)
        source = aws.cloudwatch.LogDeliverySource(
            ctx.name("cdn-log-source", b.stem), name=delivery_name, log_type="ACCESS_LOGS",
            resource_arn=distribution.arn, tags=g.tags(f"cdn-log-source-{b.stem}"), opts=on_global)
        destination = aws.cloudwatch.LogDeliveryDestination(
            ctx.name("cdn-log-destination", b.stem), name=delivery_name, output_format="json",
            delivery_destination_configuration={"destination_resource_arn": group.arn},
            tags=g.tags(f"cdn-log-destination-{b.stem}"), opts=on_global)
        aws.cloudwatch.LogDelivery(
            ctx.name("cdn-log-delivery", b.stem), delivery_source_name=source.name,
            delivery_destination_arn=destination.arn, tags=g.tags(f"cdn-log-delivery-{b.stem}"), opts=on_global)

"""Data tier, object storage: S3 buckets per region, one optionally served through CloudFront.

Every bucket: versioned, SSE-KMS with the region's storage key (S3 Bucket Keys on), all four
public access blocks, ACLs off (BucketOwnerEnforced), a policy that refuses any request not
over TLS, and a lifecycle that moves current objects to STANDARD_IA, expires old versions and
aborts stale multipart uploads. The bucket's sub-resources are applied one after another: S3
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
records, the access-log group, its key and the log delivery. Route 53 is global as well.

Access logs use standard logging (v2), CloudWatch Logs vended delivery to a log group in
us-east-1: legacy logging writes to S3 through ACLs, which a BucketOwnerEnforced bucket refuses
(CloudFront developer guide, "Configure standard logging (legacy)")."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Optional, Sequence

import pulumi
import pulumi_aws as aws

from .config.data import bucket_name, in_regions
from .iam import key_admin_statement
from .naming import RegionContext, partition_of
from .stack import StackSpec
from .wiring import RegionWiring

# CloudFront's managed cache policy "CachingOptimized" (CloudFront developer guide, "Use managed
# cache policies"): no query strings or cookies in the key, compressed objects cached apart.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
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


@dataclass(frozen=True, kw_only=True)
class CdnArgs:
    domain: str
    hosted_zone_id: str
    price_class: str
    log_retention_days: int


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
    protect: bool = False  # prod: buckets and keys


def storage_args(spec: StackSpec, w: RegionWiring) -> Optional[StorageArgs]:
    data = spec.config.data
    storage = data.storage if data else None
    if storage is None:
        return None
    buckets = tuple(StorageBucketArgs(
        stem=b.name, name=bucket_name(b.name, w.ctx.environment, w.ctx.code),
        infrequent_access_after_days=b.infrequent_access_after_days,
        noncurrent_version_expiry_days=b.noncurrent_version_expiry_days,
        cdn=CdnArgs(domain=b.cdn.domain, hosted_zone_id=b.cdn.hosted_zone_id, price_class=b.cdn.price_class,
                    log_retention_days=b.cdn.log_retention_days) if b.cdn else None,
    ) for b in storage.buckets if in_regions(b.regions, w.ctx.region))
    if not buckets:
        return None
    return StorageArgs(ctx=w.ctx, account=w.account, buckets=buckets, protect=spec.config.environment == "prod")


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


def cdn_logs_key_policy(account: str, partition: str, region: str, log_group_arns: Sequence[str]) -> str:
    """CloudWatch Logs of `region` encrypts the access-log groups (CloudWatch Logs user guide,
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

        cdn_buckets = [b for b in args.buckets if b.cdn]
        if cdn_buckets:
            # components.platform (region.py) imports this module: import the provider helper on use.
            from .platform.providers import GLOBAL_SERVICES_REGION, global_services_provider
            self.global_provider = global_services_provider(ctx, self)
            self._global = RegionContext(GLOBAL_SERVICES_REGION, ctx.environment, ctx.owner)
            log_group_names = {b.stem: self._global.log_group_name(f"cloudfront/{ctx.code}/{b.stem}")
                               for b in cdn_buckets}
            self.cdn_logs_key = self._cdn_logs_key(args, log_group_names)
            for b in cdn_buckets:
                self.distributions[b.stem] = self._cdn(b, log_group_names[b.stem])

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

        for b in args.buckets:
            self._configure(b, self.buckets[b.stem], self.distributions.get(b.stem))
        self.register_outputs({"bucketNames": self.bucket_names,
                               "distributionDomains": {k: d.domain_name for k, d in self.distributions.items()}})

    def _configure(self, b: StorageBucketArgs, bucket: aws.s3.Bucket,
                   distribution: Optional[aws.cloudfront.Distribution]) -> None:
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
        aws.s3.BucketPolicy(ctx.name("bucket-policy", b.stem), bucket=bucket.id, policy=policy, opts=after(lifecycle))

    def _cdn_logs_key(self, args: StorageArgs, log_group_names: dict[str, str]) -> aws.kms.Key:
        ctx, g = self._ctx, self._global
        partition = partition_of(g.region)
        on_global = pulumi.ResourceOptions(parent=self, provider=self.global_provider)
        key = aws.kms.Key(
            ctx.name("cdn-logs"), description=f"{ctx.environment} CloudFront access logs of {ctx.region}'s buckets",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=pulumi.Output.from_input(args.account).apply(lambda a: cdn_logs_key_policy(
                a, partition, g.region, [f"arn:{partition}:logs:{g.region}:{a}:log-group:{n}"
                                         for n in log_group_names.values()])),
            tags=g.tags("cdn-logs-key"),
            opts=pulumi.ResourceOptions.merge(on_global, pulumi.ResourceOptions(protect=args.protect)))
        aws.kms.Alias(ctx.name("cdn-logs"), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/cdn-logs",
                      target_key_id=key.key_id, opts=on_global)
        return key

    def _cdn(self, b: StorageBucketArgs, log_group_name: str) -> aws.cloudfront.Distribution:
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
            origins=[{"domain_name": bucket.bucket_regional_domain_name, "origin_id": origin_id,
                      "origin_access_control_id": oac.id}],
            default_cache_behavior={
                "target_origin_id": origin_id, "allowed_methods": ["GET", "HEAD"], "cached_methods": ["GET", "HEAD"],
                # HTTPS to viewers means HTTPS to S3 too: CloudFront forwards to an S3 origin with the
                # viewer's protocol (developer guide, "How CloudFront processes HTTP and HTTPS
                # requests"), and the bucket policy denies anything else.
                "viewer_protocol_policy": "redirect-to-https",
                "cache_policy_id": CACHING_OPTIMIZED_POLICY_ID, "compress": True},
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

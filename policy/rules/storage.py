"""Object storage and CDN: S3 encrypted with KMS, ACLs off, TLS-only bucket policies;
CloudFront serving HTTPS only with a modern TLS policy, reading S3 through origin access
control, and logging its requests. (S3 public access blocks: rules/data.py.)

One exception to KMS: a bucket that receives S3 server access logs. S3 delivers those logs to a
destination bucket whose default encryption is SSE-S3 only ("You can use default bucket
encryption on the destination bucket only if you use server-side encryption with Amazon S3
managed keys (SSE-S3) ... Default server-side encryption with AWS Key Management Service (AWS
KMS) keys (SSE-KMS) is not supported": S3 user guide, "Enabling Amazon S3 server access
logging"). The rule reads that from the plan, not from a tag a program could set on any bucket:
AES256 passes only on a bucket that an aws:s3/bucketLogging in the same stack names as its
target and that does not log to a bucket itself (S3: "Your destination bucket should not have
server access logging enabled"), so a data bucket, which logs, can never use it. Hence a stack
rule: a resource rule sees one resource and could not tell.

A value a preview cannot know yet (a policy naming a distribution not created yet) is skipped
for that one resource, so the rest of the stack is still judged; `pulumi up` judges it."""

import fnmatch
import json
import re

from pulumi_policy.proxy import UnknownValueError

from .base import as_list, get, is_map, resource_rule, stack_rule

BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SSE_TYPES = ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
             "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2")
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
LOG_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
# S3 server access logging (v7 token; the v6 BucketLoggingV2 it aliases is read the same way).
BUCKET_LOGGING = ("aws:s3/bucketLogging:BucketLogging", "aws:s3/bucketLoggingV2:BucketLoggingV2")

# SSE-KMS and dual-layer SSE-KMS; botocore 1.44's S3 ServerSideEncryption enum also has AES256 (S3-managed
# keys), aws:fsx and aws:backup, none of them a key the account controls.
KMS_ALGORITHMS = {"aws:kms", "aws:kms:dsse"}
# The one default encryption S3 server access log delivery works with (module doc).
LOG_TARGET_ALGORITHM = "AES256"
VIEWER_HTTPS = {"redirect-to-https", "https-only"}
# botocore cloudfront MinimumProtocolVersion: SSLv3, TLSv1, TLSv1_2016, TLSv1.1_2016, TLSv1.2_2018,
# TLSv1.2_2019, TLSv1.2_2021, TLSv1.3_2025, TLSv1.2_2025. The guideline: TLSv1.2_2021 or newer.
MODERN_TLS = {"TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"}


# -- resource rules --------------------------------------------------------------------------
def _algorithms(p) -> list:
    return [get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm")
            for rule in as_list(p.get("rules")) or as_list(p.get("rule"))]


def _owner_enforced(t, p):
    ownership = get(p, "rule", "objectOwnership")
    if ownership != "BucketOwnerEnforced":
        yield f"object ownership is {ownership or 'unset'}: ACLs stay on"


def _behaviours(p):
    yield "the default cache behaviour", p.get("defaultCacheBehavior")
    for i, behaviour in enumerate(as_list(p.get("orderedCacheBehaviors"))):
        yield f"cache behaviour {get(behaviour, 'pathPattern') or i}", behaviour


def _viewers_https(t, p):
    for where, behaviour in _behaviours(p):
        policy = get(behaviour, "viewerProtocolPolicy") if is_map(behaviour) else None
        if policy not in VIEWER_HTTPS:
            yield f"{where} lets viewers use HTTP (viewerProtocolPolicy {policy or 'unset'})"


def _modern_tls(t, p):
    cert = p.get("viewerCertificate") or {}
    if cert.get("cloudfrontDefaultCertificate") is True:
        # With *.cloudfront.net CloudFront sets TLSv1 whatever is asked (ViewerCertificate docs).
        yield "the default *.cloudfront.net certificate serves TLSv1 whatever minimumProtocolVersion says"
        return
    version = cert.get("minimumProtocolVersion")
    if version not in MODERN_TLS:
        yield f"minimum viewer TLS is {version or 'TLSv1 (the default)'}, older than TLSv1.2_2021"


def _is_s3_origin(origin) -> bool:
    if get(origin, "customOriginConfig") or get(origin, "vpcOriginConfig"):
        return False  # S3 website endpoints are custom origins: OAC cannot sign for them
    domain = str(get(origin, "domainName") or "")
    return get(origin, "s3OriginConfig") is not None or ".s3." in domain or domain.endswith(".s3.amazonaws.com")


def _s3_origins_use_oac(t, p):
    for origin in as_list(p.get("origins")):
        name = get(origin, "originId") or get(origin, "domainName")
        if get(origin, "s3OriginConfig", "originAccessIdentity"):
            yield f"origin {name} reads S3 through a legacy origin access identity"
        elif _is_s3_origin(origin) and not get(origin, "originAccessControlId"):
            yield f"S3 origin {name} has no origin access control"


# -- stack rules -----------------------------------------------------------------------------
def _document(policy):
    if isinstance(policy, str):
        try:
            return json.loads(policy)
        except ValueError:
            return None
    return policy if is_map(policy) else None


def _lower_keys(value):
    return {str(k).lower(): v for k, v in value.items()} if is_map(value) else {}


def _covers(patterns, arn: str) -> bool:
    return any(fnmatch.fnmatchcase(arn, str(p)) for p in patterns)


def denies_insecure_transport(policy, bucket: str | None = None) -> bool:
    """A Deny for everyone, on every S3 action, when aws:SecureTransport is false; on the bucket
    and its objects when the bucket's name is known."""
    doc = _document(policy)
    for s in as_list(doc.get("Statement")) if doc else []:
        if not is_map(s) or s.get("Effect") != "Deny":
            continue
        principal = s.get("Principal")
        if principal != "*" and "*" not in as_list(get(principal, "AWS") if is_map(principal) else None):
            continue
        if not {"s3:*", "*"} & set(as_list(s.get("Action"))):
            continue
        condition = _lower_keys(s.get("Condition"))
        secure = [v for op in ("bool", "boolifexists") for k, v in _lower_keys(condition.get(op)).items()
                  if k == "aws:securetransport"]
        if not any(str(x).lower() == "false" for v in secure for x in as_list(v)):
            continue
        resources = [re.sub(r"^arn:[a-z-]+:s3:::", "arn:aws:s3:::", str(r)) for r in as_list(s.get("Resource"))]
        if bucket and not (_covers(resources, f"arn:aws:s3:::{bucket}") and
                           _covers(resources, f"arn:aws:s3:::{bucket}/any-object")):
            continue
        return True
    return False


def _linked(resource, prop, target) -> bool:
    return any(dep.urn == target.urn for dep in (resource.property_dependencies or {}).get(prop, []))


def _buckets_deny_insecure_transport(resources):
    policies = [r for r in resources if r.resource_type == BUCKET_POLICY]
    for bucket in (r for r in resources if r.resource_type in BUCKETS):
        try:
            name = bucket.props.get("bucket")
            docs = [bucket.props.get("policy")] if bucket.props.get("policy") else []
            docs += [p.props.get("policy") for p in policies
                     if _linked(p, "bucket", bucket) or (name and p.props.get("bucket") == name)]
            if not any(denies_insecure_transport(doc, name if isinstance(name, str) else None) for doc in docs):
                what = "no bucket policy" if not docs else "its policy does not deny aws:SecureTransport false"
                yield f"bucket {name or bucket.name} accepts plain HTTP: {what}", bucket.urn
        except UnknownValueError:
            continue  # the policy names something not created yet: judged at `pulumi up`


def _bucket_refs(resource, prop) -> tuple[set, set]:
    """(urns of the buckets `prop` depends on, the bucket name when it is known)."""
    urns = {dep.urn for dep in (resource.property_dependencies or {}).get(prop, [])}
    try:
        value = resource.props.get(prop)
    except UnknownValueError:
        value = None
    return urns, ({value} if isinstance(value, str) else set())


def _log_targets_not_logged(resources) -> tuple[set, set]:
    """(urns, names) of the buckets some BucketLogging writes to and that log nowhere themselves."""
    targets, sources = (set(), set()), (set(), set())
    for logging in (r for r in resources if r.resource_type in BUCKET_LOGGING):
        for refs, prop in ((targets, "targetBucket"), (sources, "bucket")):
            urns, names = _bucket_refs(logging, prop)
            refs[0].update(urns)
            refs[1].update(names)
    return targets[0] - sources[0], targets[1] - sources[1]


def _buckets_encrypt_with_kms(resources):
    exempt_urns, exempt_names = _log_targets_not_logged(resources)
    for sse in (r for r in resources if r.resource_type in SSE_TYPES):
        try:
            algorithms = _algorithms(sse.props)
            if not algorithms:
                yield f"{sse.name}: no default encryption rule", sse.urn
                continue
            wrong = [a for a in algorithms if a not in KMS_ALGORITHMS]
            if not wrong:
                continue
            urns, names = _bucket_refs(sse, "bucket")
            if all(a == LOG_TARGET_ALGORITHM for a in wrong) and (urns & exempt_urns or names & exempt_names):
                continue  # a server access log target that logs nowhere: SSE-S3 is all S3 delivers to
            for algorithm in wrong:
                yield f"{sse.name}: default encryption is {algorithm or 'unset'}, not aws:kms", sse.urn
        except UnknownValueError:
            continue


def _distributions_log(resources):
    sources = [r for r in resources if r.resource_type == LOG_SOURCE]
    deliveries = [r for r in resources if r.resource_type == LOG_DELIVERY]
    for dist in (r for r in resources if r.resource_type == DISTRIBUTION):
        try:
            if get(dist.props, "loggingConfig", "bucket"):
                continue  # standard logging (legacy), to S3
            logged = False
            for source in sources:
                if not (_linked(source, "resourceArn", dist) and source.props.get("logType") == "ACCESS_LOGS"):
                    continue
                logged = logged or any(_linked(d, "deliverySourceName", source)
                                       or d.props.get("deliverySourceName") == source.props.get("name")
                                       for d in deliveries)
            if not logged:
                yield f"distribution {dist.name} writes no access logs", dist.urn
        except UnknownValueError:
            continue


POLICIES = [
    resource_rule("s3-bucket-owner-enforced", "S3 object ownership is BucketOwnerEnforced (ACLs disabled).",
                  "set rule.objectOwnership to BucketOwnerEnforced", (OWNERSHIP,), _owner_enforced),
    resource_rule("cloudfront-viewers-https-only", "CloudFront serves viewers over HTTPS only, in every behaviour.",
                  "set viewerProtocolPolicy to redirect-to-https or https-only in the default and ordered behaviours",
                  (DISTRIBUTION,), _viewers_https),
    resource_rule("cloudfront-minimum-tls", "CloudFront viewers need TLSv1.2_2021 or newer.",
                  "serve a custom domain with an ACM certificate (us-east-1), sslSupportMethod sni-only and "
                  "minimumProtocolVersion TLSv1.2_2021 (or TLSv1.2_2025, TLSv1.3_2025)", (DISTRIBUTION,), _modern_tls),
    resource_rule("cloudfront-s3-origin-oac", "CloudFront reads S3 origins through origin access control, not OAI.",
                  "give the origin an aws.cloudfront.OriginAccessControl (s3, sigv4, always) and drop "
                  "s3OriginConfig.originAccessIdentity", (DISTRIBUTION,), _s3_origins_use_oac),
]
STACK_POLICIES = [
    stack_rule("s3-encryption-kms",
               "S3 default encryption uses KMS (aws:kms or aws:kms:dsse); only a server access log target "
               "bucket (the targetBucket of an aws:s3/bucketLogging in this stack, logging nowhere itself) may "
               "use AES256 (SSE-S3), the only default encryption S3 delivers those logs to.",
               "set applyServerSideEncryptionByDefault.sseAlgorithm to aws:kms with a customer-managed key",
               _buckets_encrypt_with_kms),
    stack_rule("s3-deny-insecure-transport", "Every S3 bucket's policy denies requests without TLS.",
               "attach a bucket policy with a Deny for Principal *, Action s3:*, on the bucket and bucket/*, "
               "when Bool aws:SecureTransport is false", _buckets_deny_insecure_transport),
    stack_rule("cloudfront-access-logs", "Every CloudFront distribution writes access logs.",
               "add standard logging (v2) in us-east-1: an aws.cloudwatch.LogDeliverySource (ACCESS_LOGS) on the "
               "distribution's ARN, a LogDeliveryDestination and a LogDelivery joining them", _distributions_log),
]

"""Data tier, object storage: S3 buckets hardened in every region they are declared in, each
logging to its region's server access log bucket, one behind CloudFront (OAC, HTTPS only,
TLSv1.2_2021, access logs, a CLOUDFRONT web ACL), its us-east-1 parts on a us-east-1 provider;
the security rules on violating and compliant resources."""

from __future__ import annotations

import copy
import json

import pytest

from components.config import ConfigError
from components.config.data import CdnSpec
from components.config.data import s3_name_problem
from components.storage import (access_log_bucket_name, access_log_bucket_policy, bucket_policy,
                                limited_name, storage_key_policy, waf_rules)
from tests.helpers import run, shipped, stack_yaml, variant
from tools.plan_json import dump
from tools.policy_check import resources_from_preview

BUCKET = "aws:s3/bucket:Bucket"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
POLICY = "aws:s3/bucketPolicy:BucketPolicy"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
PUBLIC = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
DIST = "aws:cloudfront/distribution:Distribution"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"
CERT = "aws:acm/certificate:Certificate"
CERT_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "aws:route53/record:Record"
KEY = "aws:kms/key:Key"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_SOURCE = "aws:cloudwatch/logDeliverySource:LogDeliverySource"
LOG_DEST = "aws:cloudwatch/logDeliveryDestination:LogDeliveryDestination"
LOG_DELIVERY = "aws:cloudwatch/logDelivery:LogDelivery"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
PROVIDER = "pulumi:providers:aws"


def _storage(r, typ):
    return [x for x in r.of_type(typ) if "global-platform:storage:StorageTier" in x.urn]


def _one(items, what=""):
    assert len(items) == 1, (what, [i.urn for i in items])
    return items[0]


def _log_buckets(r):
    return [b for b in _storage(r, BUCKET) if "-s3-logs-" in b.inputs["bucket"]]


def _data_buckets(r):
    return [b for b in _storage(r, BUCKET) if "-s3-logs-" not in b.inputs["bucket"]]


def _for_bucket(r, typ, bucket):
    """The sub-resource of `typ` configuring `bucket` (its `bucket` input is the bucket's id)."""
    return _one([x for x in _storage(r, typ) if x.inputs["bucket"] == bucket.id], typ)


def _statements(doc: str) -> dict:
    return {s["Sid"]: s for s in json.loads(doc)["Statement"]}


# -- buckets ---------------------------------------------------------------------------------
@pytest.mark.parametrize("stack, expected", [
    ("prod", {("example-org-uploads-prod-apne2", "ap-northeast-2"), ("example-org-uploads-prod-apne1", "ap-northeast-1"),
              ("example-org-uploads-prod-usw2", "us-west-2"), ("example-org-static-prod-apne2", "ap-northeast-2")}),
    ("dev", {("example-org-uploads-dev-apne2", "ap-northeast-2"), ("example-org-uploads-dev-apse1", "ap-southeast-1")}),
    ("airgap", set()),
])
def test_each_bucket_lives_in_its_declared_regions_under_its_name(stack, expected):
    r = shipped(stack)
    assert {(b.inputs["bucket"], r.region_of(b)) for b in _data_buckets(r)} == expected
    # One server access log bucket per region that has buckets, named after the env and region.
    assert {(b.inputs["bucket"], r.region_of(b)) for b in _log_buckets(r)} == {
        (f"example-org-s3-logs-{stack}-{name.rsplit('-', 1)[1]}", region) for name, region in expected}


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_every_bucket_is_hardened_and_configured_one_call_at_a_time(stack):
    r = shipped(stack)
    prod = stack == "prod"
    specs = {b.name: b for b in r.spec.config.data.storage.buckets}
    keys = {r.region_of(k): k for k in _storage(r, KEY) if "S3 encryption" in k.inputs["description"]}
    for bucket in _data_buckets(r):
        name = bucket.inputs["bucket"]
        spec = specs[name.rsplit("-", 2)[0]]
        assert bucket.inputs["forceDestroy"] is False and bucket.protect is prod, bucket.urn
        assert bucket.inputs["tags"]["environment"] == stack
        ownership, public, versioning, sse, lifecycle, policy = (
            _for_bucket(r, t, bucket) for t in (OWNERSHIP, PUBLIC, VERSIONING, SSE, LIFECYCLE, POLICY))
        assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
        assert all(public.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                      "restrictPublicBuckets"))
        assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
        key = keys[r.region_of(bucket)]
        assert sse.inputs["rules"] == [{"applyServerSideEncryptionByDefault": {
            "sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.outputs["arn"]}, "bucketKeyEnabled": True}]
        (rule,) = lifecycle.inputs["rules"]
        assert rule["status"] == "Enabled" and rule["filter"] == {}
        assert rule["transitions"] == [{"days": spec.infrequent_access_after_days, "storageClass": "STANDARD_IA"}]
        assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": spec.noncurrent_version_expiry_days}
        assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
        deny = _statements(policy.inputs["policy"])["DenyInsecureTransport"]
        assert deny == {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        # S3 answers concurrent configuration calls on one bucket with 409 OperationAborted.
        logging = _for_bucket(r, LOGGING, bucket)
        chain = [ownership, public, versioning, sse, lifecycle, policy, logging]
        for before, after in zip(chain, chain[1:]):
            assert before.urn in after.dependencies, (after.urn, "waits for", before.urn)
        assert all(r.region_of(x) == r.region_of(bucket) for x in chain)


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_one_rotating_storage_key_per_region_protected_in_prod(stack):
    r = shipped(stack)
    keys = [k for k in _storage(r, KEY) if "S3 encryption" in k.inputs["description"]]
    assert sorted(r.region_of(k) for k in keys) == sorted({r.region_of(b) for b in _storage(r, BUCKET)})
    for key in keys:
        assert key.inputs["enableKeyRotation"] is True and key.inputs["deletionWindowInDays"] == 30
        assert key.protect is (stack == "prod"), key.urn
        admin = _statements(key.inputs["policy"])["AccountAdministers"]
        assert admin["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}


def test_a_bucket_that_stays_in_standard_has_no_transition(tmp_path):
    buckets = [{"name": "example-org-archive", "infrequentAccessAfterDays": None, "noncurrentVersionExpiryDays": 7}]
    r = run("dev", variant(tmp_path, "dev", data={"storage": {"buckets": buckets}}))
    for lifecycle in _storage(r, LIFECYCLE):
        if "access-logs" in lifecycle.urn:
            continue
        (rule,) = lifecycle.inputs["rules"]
        assert "transitions" not in rule and rule["noncurrentVersionExpiration"] == {"noncurrentDays": 7}


# -- server access logs ----------------------------------------------------------------------
@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_every_bucket_logs_to_its_regions_log_bucket_with_partitioned_keys(stack):
    r = shipped(stack)
    log_buckets = {r.region_of(b): b for b in _log_buckets(r)}
    for bucket in _data_buckets(r):
        name = bucket.inputs["bucket"]
        logging = _for_bucket(r, LOGGING, bucket)
        target = log_buckets[r.region_of(bucket)]
        assert logging.inputs == {
            "bucket": name, "targetBucket": target.id, "targetPrefix": f"{name}/",
            "targetObjectKeyFormat": {"partitionedPrefix": {"partitionDateSource": "EventTime"}}}
        assert r.region_of(logging) == r.region_of(bucket)
        # Delivery works only once the log bucket's policy admits it.
        assert _for_bucket(r, POLICY, target).urn in logging.dependencies
    # The log buckets are not logged themselves.
    assert not [x for x in _storage(r, LOGGING) if x.inputs["bucket"] in {b.id for b in _log_buckets(r)}]


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_log_buckets_are_hardened_sse_s3_expiring_and_configured_one_call_at_a_time(stack):
    r = shipped(stack)
    retention = r.spec.config.network.flow_log_retention_days
    assert retention == (365 if stack == "prod" else 30), "prod keeps its logs a year"
    for bucket in _log_buckets(r):
        assert bucket.inputs["forceDestroy"] is False and bucket.protect is (stack == "prod")
        ownership, public, versioning, sse, lifecycle, policy = (
            _for_bucket(r, t, bucket) for t in (OWNERSHIP, PUBLIC, VERSIONING, SSE, LIFECYCLE, POLICY))
        assert ownership.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
        assert all(public.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                                      "restrictPublicBuckets"))
        assert versioning.inputs["versioningConfiguration"] == {"status": "Enabled"}
        # S3 delivers server access logs only to SSE-S3 buckets (S3 user guide).
        assert sse.inputs["rules"] == [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]
        assert lifecycle.inputs["rules"] == [{
            "id": "expire-access-logs", "status": "Enabled", "filter": {}, "expiration": {"days": retention},
            "noncurrentVersionExpiration": {"noncurrentDays": 30}, "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]
        chain = [ownership, public, versioning, sse, lifecycle, policy]
        for before, after in zip(chain, chain[1:]):
            assert before.urn in after.dependencies, (after.urn, "waits for", before.urn)
        assert all(r.region_of(x) == r.region_of(bucket) for x in chain)


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_log_bucket_policy_admits_only_s3_log_delivery_for_its_regions_buckets(stack):
    r = shipped(stack)
    for log_bucket in _log_buckets(r):
        log = log_bucket.inputs["bucket"]
        sources = sorted(b.inputs["bucket"] for b in _data_buckets(r) if r.region_of(b) == r.region_of(log_bucket))
        statements = json.loads(_for_bucket(r, POLICY, log_bucket).inputs["policy"])["Statement"]
        deny = [s for s in statements if s["Effect"] == "Deny"]
        assert deny == [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                         "Resource": [f"arn:aws:s3:::{log}", f"arn:aws:s3:::{log}/*"],
                         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
        allows = sorted((s for s in statements if s["Effect"] == "Allow"), key=lambda s: s["Resource"])
        assert [{k: v for k, v in s.items() if k != "Sid"} for s in allows] == [{
            "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{log}/{source}/*",
            "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{source}"},
                          "StringEquals": {"aws:SourceAccount": "123456789012"}}} for source in sources]
        assert len({s["Sid"] for s in statements}) == len(statements)


def test_access_log_bucket_name():
    assert access_log_bucket_name("example-org-uploads", "prod", "apne2") == "example-org-s3-logs-prod-apne2"
    assert access_log_bucket_name("acme", "dev", "usw2") == "acme-s3-logs-dev-usw2", "a one-word stem stays whole"
    assert access_log_bucket_name("acme.corp-media", "dev", "usw2") == "acme.corp-s3-logs-dev-usw2"
    long = access_log_bucket_name("a" * 50 + "-uploads", "prod", "apne2")
    assert len(long) == 63 and long.endswith("-s3-logs-prod-apne2") and s3_name_problem(long) is None
    assert long != access_log_bucket_name("a" * 51 + "-uploads", "prod", "apne2")
    for name in (access_log_bucket_name(stem, env, code) for stem in ("example-org-uploads", "x-y", "abc")
                 for env in ("dev", "prod", "airgap") for code in ("apne2", "usgovw1")):
        assert s3_name_problem(name) is None, name


def test_a_bucket_named_like_the_log_bucket_is_refused_naming_the_first_buckets_key(tmp_path):
    buckets = [{"name": "example-org-uploads"}, {"name": "example-org-s3-logs"}]
    with pytest.raises(ConfigError) as err:
        run("dev", variant(tmp_path, "dev", data={"storage": {"buckets": buckets}}))
    text = err.value.render()
    assert "global-platform:data.storage.buckets[0].name" in text and "example-org-s3-logs-dev-" in text, text
    assert "name of a declared bucket" in text


def test_bucket_logging_inputs_are_checked_against_put_bucket_logging():
    from tools.upstream.aws_models import check, operation_for
    assert operation_for(LOGGING) == ("s3", "PutBucketLogging")
    inputs = {"bucket": "b", "targetBucket": "logs", "targetPrefix": "b/",
              "targetObjectKeyFormat": {"partitionedPrefix": {"partitionDateSource": "EventTime"}}}
    doc = lambda i: {"steps": [{"op": "create", "urn": f"urn:pulumi:prod::p::{LOGGING}::r",  # noqa: E731
                                "newState": {"type": LOGGING, "inputs": i}}]}
    assert check(doc(inputs)) == []
    bad = {**inputs, "targetObjectKeyFormat": {"partitionedPrefix": {"partitionDateSource": "ArrivalTime"}}}
    (finding,) = check(doc(bad))
    assert "PutBucketLogging.BucketLoggingStatus.LoggingEnabled.TargetObjectKeyFormat.PartitionedPrefix." \
           "PartitionDateSource" in finding.message and "EventTime, DeliveryTime" in finding.message


def test_access_log_bucket_policy_helper():
    doc = json.loads(access_log_bucket_policy("arn:aws-cn:s3:::logs", "1", ["b.x-1", "a"], "aws-cn"))
    sids = [s["Sid"] for s in doc["Statement"]]
    assert sids == ["DenyInsecureTransport", "ServerAccessLogsFromA", "ServerAccessLogsFromBX1"]
    assert doc["Statement"][2]["Condition"]["ArnLike"] == {"aws:SourceArn": "arn:aws-cn:s3:::b.x-1"}
    assert doc["Statement"][2]["Resource"] == "arn:aws-cn:s3:::logs/b.x-1/*"


# -- CloudFront ------------------------------------------------------------------------------
def _cdn(r):
    dist = _one(_storage(r, DIST), "distribution")
    bucket = _one([b for b in _storage(r, BUCKET) if b.inputs["bucket"].startswith("example-org-static-")])
    return dist, bucket


def test_cloudfront_parts_live_in_us_east_1_on_a_provider_like_the_regional_one():
    r = shipped("prod")
    dist, bucket = _cdn(r)
    regional = r.regs[bucket.provider.rsplit("::", 1)[0]]
    global_ = r.regs[dist.provider.rsplit("::", 1)[0]]
    assert global_.type == PROVIDER and global_.inputs["region"] == "us-east-1"
    assert {k: v for k, v in global_.inputs.items() if k != "region"} == \
        {k: v for k, v in regional.inputs.items() if k != "region"}, "same settings as regional_provider"
    for typ in (DIST, OAC, CERT, CERT_VALIDATION, RECORD, LOG_GROUP, LOG_SOURCE, LOG_DEST, LOG_DELIVERY):
        for x in _storage(r, typ):
            assert r.region_of(x) == "us-east-1", x.urn
    assert len([p for p in r.of_type(PROVIDER) if p.inputs["region"] == "us-east-1"]) == 1, \
        "only the hub holds a CDN bucket"


def test_the_distribution_serves_the_custom_domain_over_modern_tls_only():
    r = shipped("prod")
    dist, bucket = _cdn(r)
    cdn = next(b.cdn for b in r.spec.config.data.storage.buckets if b.cdn)
    i = dist.inputs
    assert i["aliases"] == [cdn.domain] and i["enabled"] is True and i["isIpv6Enabled"] is True
    assert i["httpVersion"] == "http2and3" and i["priceClass"] == cdn.price_class
    validation = _one(_storage(r, CERT_VALIDATION))
    assert i["viewerCertificate"] == {"acmCertificateArn": validation.inputs["certificateArn"],
                                      "sslSupportMethod": "sni-only", "minimumProtocolVersion": "TLSv1.2_2021"}
    assert validation.urn in dist.dependencies, "the distribution waits for an ISSUED certificate"
    behaviour = i["defaultCacheBehavior"]
    assert behaviour["viewerProtocolPolicy"] == "redirect-to-https"
    assert behaviour["cachePolicyId"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"  # CachingOptimized
    # the managed SecurityHeadersPolicy: HSTS, nosniff, frame and referrer policies on every response
    assert behaviour["responseHeadersPolicyId"] == "67f7725c-6f97-4210-82d7-5512b31e9d03"
    assert behaviour["allowedMethods"] == ["GET", "HEAD"] and behaviour["compress"] is True
    assert "orderedCacheBehaviors" not in i
    oac = _one(_storage(r, OAC))
    assert oac.inputs | {"name": None, "description": None} == {
        "name": None, "description": None, "originAccessControlOriginType": "s3", "signingBehavior": "always",
        "signingProtocol": "sigv4"}
    (origin,) = i["origins"]
    assert origin == {"domainName": bucket.outputs["bucketRegionalDomainName"], "originId": behaviour["targetOriginId"],
                      "originAccessControlId": oac.id}, "OAC, never a legacy OAI"


def test_the_distribution_has_a_default_root_object():
    dist, _ = _cdn(shipped("prod"))
    assert dist.inputs["defaultRootObject"] == "index.html"


def test_a_cloudfront_scoped_web_acl_on_the_us_east_1_provider_guards_the_distribution():
    r = shipped("prod")
    dist, _ = _cdn(r)
    acl = _one(_storage(r, WEB_ACL))
    assert dist.inputs["webAclId"] == acl.outputs["arn"] and acl.urn in dist.dependencies
    assert acl.outputs["arn"].startswith("arn:aws:wafv2:us-east-1:123456789012:global/webacl/")
    assert acl.inputs["scope"] == "CLOUDFRONT" and acl.inputs["defaultAction"] == {"allow": {}}
    # the very provider the distribution uses, and it is us-east-1
    assert acl.provider == dist.provider and r.regs[acl.provider.rsplit("::", 1)[0]].inputs["region"] == "us-east-1"
    name = acl.inputs["name"]
    assert name == "prod-apne2-cdn-example-org-static" and acl.inputs["tags"]["region"] == "us-east-1"
    assert acl.inputs["visibilityConfig"] == {"cloudwatchMetricsEnabled": True, "sampledRequestsEnabled": True,
                                              "metricName": name}
    rate, crs, bad_inputs = sorted(acl.inputs["rules"], key=lambda x: x["priority"])
    assert rate == {"name": "rate-limit-per-ip", "priority": 0, "action": {"block": {}},
                    "statement": {"rateBasedStatement": {"limit": CDN_RATE_LIMIT, "aggregateKeyType": "IP",
                                                         "evaluationWindowSec": 300}},
                    "visibilityConfig": {"cloudwatchMetricsEnabled": True, "sampledRequestsEnabled": True,
                                         "metricName": f"{name}-rate-limit"}}
    for rule, group in ((crs, "AWSManagedRulesCommonRuleSet"), (bad_inputs, "AWSManagedRulesKnownBadInputsRuleSet")):
        assert rule["statement"] == {"managedRuleGroupStatement": {"vendorName": "AWS", "name": group}}
        assert rule["overrideAction"] == {"none": {}} and "action" not in rule, "the group's own actions, not count"
        assert rule["visibilityConfig"]["cloudwatchMetricsEnabled"] is True


def test_the_web_acl_logs_to_an_encrypted_aws_waf_logs_group_in_us_east_1():
    r = shipped("prod")
    acl = _one(_storage(r, WEB_ACL))
    cdn = next(b.cdn for b in r.spec.config.data.storage.buckets if b.cdn)
    logging = _one(_storage(r, WAF_LOGGING))
    group = _one([g for g in _storage(r, LOG_GROUP) if g.inputs["name"].startswith("aws-waf-logs-")])
    assert group.inputs["name"] == "aws-waf-logs-prod-apne2-cdn-example-org-static"
    assert logging.inputs == {"resourceArn": acl.outputs["arn"], "logDestinationConfigs": [group.outputs["arn"]],
                              "redactedFields": [{"singleHeader": {"name": "authorization"}}]}
    assert r.region_of(group) == r.region_of(logging) == "us-east-1" and group.provider == acl.provider
    assert group.inputs["retentionInDays"] == cdn.log_retention_days
    # the tier's us-east-1 log key, whose policy lets CloudWatch Logs use it for this group too
    key = _one([k for k in _storage(r, KEY) if r.region_of(k) == "us-east-1"])
    assert group.inputs["kmsKeyId"] == key.outputs["arn"]
    arns = _statements(key.inputs["policy"])["CloudWatchLogsUse"]["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert group.outputs["arn"] in arns and len(arns) == 2


def test_waf_rules_helper_keeps_names_within_waf_limits():
    rules = waf_rules("x" * 128, 10, ["AWSManagedRulesCommonRuleSet"])
    assert all(len(rule["visibility_config"]["metric_name"]) <= 255 for rule in rules)
    assert [rule["priority"] for rule in rules] == [0, 1]
    assert len(limited_name("prod-apne2-cdn-" + "b" * 200, 128)) == 128


def test_the_certificate_is_validated_in_the_given_zone_and_the_domain_aliases_the_distribution():
    r = shipped("prod")
    dist, _ = _cdn(r)
    cdn = next(b.cdn for b in r.spec.config.data.storage.buckets if b.cdn)
    cert = _one(_storage(r, CERT))
    assert cert.inputs["domainName"] == cdn.domain and cert.inputs["validationMethod"] == "DNS"
    validation = _one(_storage(r, CERT_VALIDATION))
    (option,) = cert.outputs["domainValidationOptions"]
    (record,) = [x for x in _storage(r, RECORD) if x.inputs["type"] == "CNAME"]
    assert record.inputs["zoneId"] == cdn.hosted_zone_id and record.inputs["name"] == option["resourceRecordName"]
    assert record.inputs["records"] == [option["resourceRecordValue"]]
    assert validation.inputs == {"certificateArn": cert.outputs["arn"], "validationRecordFqdns": [record.outputs["fqdn"]]}
    aliases = sorted((x for x in _storage(r, RECORD) if x.inputs["type"] in ("A", "AAAA")), key=lambda x: x.inputs["type"])
    assert [a.inputs["type"] for a in aliases] == ["A", "AAAA"]
    for alias in aliases:
        assert alias.inputs["name"] == cdn.domain and alias.inputs["zoneId"] == cdn.hosted_zone_id
        assert alias.inputs["aliases"] == [{"name": dist.outputs["domainName"], "zoneId": dist.outputs["hostedZoneId"],
                                            "evaluateTargetHealth": False}]


def test_only_the_distribution_reads_the_bucket_and_decrypts_with_the_key():
    r = shipped("prod")
    dist, bucket = _cdn(r)
    arn = dist.outputs["arn"]
    name = bucket.inputs["bucket"]
    statements = _statements(_for_bucket(r, POLICY, bucket).inputs["policy"])
    assert set(statements) == {"DenyInsecureTransport", "CloudFrontReadsThroughItsOac"}
    assert statements["CloudFrontReadsThroughItsOac"] == {
        "Sid": "CloudFrontReadsThroughItsOac", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": arn}}}
    for key in (k for k in _storage(r, KEY) if "S3 encryption" in k.inputs["description"]):
        cloudfront = _statements(key.inputs["policy"]).get("CloudFrontDecryptsForItsDistributions")
        if r.region_of(key) != r.region_of(bucket):
            assert cloudfront is None, f"{key.urn}: no distribution reads this region's buckets"
            continue
        assert cloudfront["Action"] == "kms:Decrypt" and cloudfront["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert cloudfront["Condition"] == {"StringEquals": {"AWS:SourceArn": [arn]}}
        assert dist.urn in key.dependencies, "the key names the distribution, so it comes after it"
    # Other data buckets' policies admit nobody (log buckets admit S3's log delivery: tested below).
    for other in _storage(r, POLICY):
        if other.inputs["bucket"] != name and "-s3-logs-" not in other.inputs["bucket"]:
            assert set(_statements(other.inputs["policy"])) == {"DenyInsecureTransport"}


def test_access_logs_go_through_v2_delivery_to_an_encrypted_log_group_in_us_east_1():
    r = shipped("prod")
    dist, _ = _cdn(r)
    cdn = next(b.cdn for b in r.spec.config.data.storage.buckets if b.cdn)
    group = _one([g for g in _storage(r, LOG_GROUP) if "/cloudfront/" in g.inputs["name"]])
    assert group.inputs["retentionInDays"] == cdn.log_retention_days == 365
    key = _one([k for k in _storage(r, KEY) if r.region_of(k) == "us-east-1"])
    assert group.inputs["kmsKeyId"] == key.outputs["arn"] and key.protect is True
    logs = _statements(key.inputs["policy"])["CloudWatchLogsUse"]
    assert logs["Principal"] == {"Service": "logs.us-east-1.amazonaws.com"}
    assert group.outputs["arn"] in logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    source, dest, delivery = _one(_storage(r, LOG_SOURCE)), _one(_storage(r, LOG_DEST)), _one(_storage(r, LOG_DELIVERY))
    assert source.inputs["logType"] == "ACCESS_LOGS" and source.inputs["resourceArn"] == dist.outputs["arn"]
    assert dest.inputs["deliveryDestinationConfiguration"] == {"destinationResourceArn": group.outputs["arn"]}
    assert dest.inputs["outputFormat"] == "json"
    assert delivery.inputs["deliverySourceName"] == source.inputs["name"]
    assert delivery.inputs["deliveryDestinationArn"] == dest.outputs["arn"]
    assert "loggingConfig" not in dist.inputs, "legacy logging needs ACLs, which BucketOwnerEnforced turns off"


def test_no_cdn_no_us_east_1_provider():
    r = shipped("dev")
    assert not _storage(r, DIST) and not [p for p in r.of_type(PROVIDER) if p.inputs["region"] == "us-east-1"]


def test_cdn_buckets_in_another_region_get_their_own_global_parts(tmp_path):
    doc = copy.deepcopy(stack_yaml("prod")["config"]["global-platform:data"]["storage"])
    static = next(b for b in doc["buckets"] if b.get("cdn"))
    static["regions"] = ["ap-northeast-1"]
    static["cdn"]["priceClass"] = "PriceClass_100"
    doc["buckets"].append({"name": "example-org-media", "regions": ["ap-northeast-1"],
                           "cdn": {"domain": "media.example.com", "hostedZoneId": "Z0123456789EXAMPLE0"}})
    r = run("prod", variant(tmp_path, "prod", data={"storage": doc}))
    dists = _storage(r, DIST)
    assert sorted(d.inputs["aliases"][0] for d in dists) == ["media.example.com", "static.example.com"]
    assert {d.inputs["aliases"][0]: d.inputs["priceClass"] for d in dists} == \
        {"media.example.com": "PriceClass_All", "static.example.com": "PriceClass_100"}
    (provider,) = [p for p in r.of_type(PROVIDER) if p.inputs["region"] == "us-east-1"]
    assert provider.name == "apne1-aws-use1"
    (key,) = [k for k in _storage(r, KEY) if r.region_of(k) == "ap-northeast-1"]
    assert sorted(_statements(key.inputs["policy"])["CloudFrontDecryptsForItsDistributions"]["Condition"]
                  ["StringEquals"]["AWS:SourceArn"]) == sorted(d.outputs["arn"] for d in dists)
    assert len(_storage(r, LOG_GROUP)) == 4, "an access-log and a WAF log group per distribution"
    assert len([k for k in _storage(r, KEY) if r.region_of(k) == "us-east-1"]) == 1
    acls = _storage(r, WEB_ACL)
    assert {d.inputs["webAclId"] for d in dists} == {a.outputs["arn"] for a in acls} and len(acls) == 2
    assert all(r.region_of(a) == "us-east-1" and a.provider == dists[0].provider for a in acls)
    (key,) = [k for k in _storage(r, KEY) if r.region_of(k) == "us-east-1"]
    assert sorted(_statements(key.inputs["policy"])["CloudWatchLogsUse"]["Condition"]["ArnLike"]
                  ["kms:EncryptionContext:aws:logs:arn"]) == sorted(g.outputs["arn"] for g in _storage(r, LOG_GROUP))


@pytest.mark.parametrize("storage, key, needle", [
    ({"buckets": [{"name": "example-org-static", "cdn": {"domain": "static.example.com",
                                                         "hostedZoneId": "Z0123456789EXAMPLE0"}}]},
     "data.storage.buckets[0].regions", "lives in one region"),
    ({"buckets": [{"name": "Example_Org"}]}, "data.storage.buckets[0].name", "lowercase"),
    ({"buckets": [{"name": "example-org-a", "infrequentAccessAfterDays": 7}]},
     "data.storage.buckets[0].infrequentAccessAfterDays", "greater than or equal to 30"),
])
def test_bad_storage_config_names_the_key(tmp_path, storage, key, needle):
    with pytest.raises(ConfigError) as err:
        run("dev", variant(tmp_path, "dev", data={"storage": storage}))
    text = err.value.render()
    assert f"global-platform:{key}" in text and needle in text, text


def test_helpers():
    assert limited_name("prod-apne2-a.b", 60) == "prod-apne2-a-b"
    long = limited_name("x" * 80, 60)
    assert len(long) == 60 and long != limited_name("x" * 81, 60)
    assert "CloudFrontDecryptsForItsDistributions" not in storage_key_policy("1", "aws", [])
    assert set(_statements(bucket_policy("arn:aws:s3:::b"))) == {"DenyInsecureTransport"}


# -- the security rules ----------------------------------------------------------------------
# the CDN config's default (prod does not set it)
CDN_RATE_LIMIT = CdnSpec.model_fields["requests_per_five_minutes"].default
TAGS = {"environment": "prod", "owner": "team", "managed-by": "pulumi", "region": "us-east-1"}


@pytest.fixture
def pack(security_pack):
    return security_pack


def resource(typ, props, name="r", **deps):
    return {"type": typ, "inputs": props, "urn": f"urn:pulumi:prod::global-platform::{typ}::{name}", "name": name,
            "parent": "", "provider": "", "dependencies": [u for us in deps.values() for u in us],
            "propertyDependencies": deps}


def fired(pack, typ, props):
    return sorted({d.policyName for d in pack.analyze(resource(typ, props), {})})


def stack_fired(pack, resources):
    return sorted(d.policyName for d in pack.analyze_stack(resources, {}))


DIST_OK = {
    "enabled": True, "aliases": ["static.example.com"], "tags": TAGS,
    "origins": [{"domainName": "b.s3.ap-northeast-2.amazonaws.com", "originId": "s3", "originAccessControlId": "E1"}],
    "defaultCacheBehavior": {"targetOriginId": "s3", "viewerProtocolPolicy": "redirect-to-https",
                             "allowedMethods": ["GET", "HEAD"], "cachedMethods": ["GET", "HEAD"]},
    "orderedCacheBehaviors": [{"pathPattern": "/img/*", "targetOriginId": "s3", "viewerProtocolPolicy": "https-only",
                               "allowedMethods": ["GET", "HEAD"], "cachedMethods": ["GET", "HEAD"]}],
    "viewerCertificate": {"acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/x", "sslSupportMethod": "sni-only",
                          "minimumProtocolVersion": "TLSv1.2_2021"},
    "restrictions": {"geoRestriction": {"restrictionType": "none"}}}


def _dist(**changes):
    out = copy.deepcopy(DIST_OK)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        cur = out
        for p in parents:
            cur = cur[int(p)] if p.isdigit() else cur[p]
        if value is None:
            cur.pop(leaf, None)
        else:
            cur[leaf] = value
    return out


SSE_OK = {"bucket": "b", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                                                            "kmsMasterKeyId": "arn:k"}}]}
CASES = [
    ("s3-bucket-owner-enforced", OWNERSHIP, {"bucket": "b", "rule": {"objectOwnership": "BucketOwnerPreferred"}},
     {"bucket": "b", "rule": {"objectOwnership": "BucketOwnerEnforced"}}),
    ("cloudfront-viewers-https-only", DIST, _dist(defaultCacheBehavior__viewerProtocolPolicy="allow-all"), DIST_OK),
    ("cloudfront-viewers-https-only", DIST, _dist(orderedCacheBehaviors__0__viewerProtocolPolicy="allow-all"), DIST_OK),
    ("cloudfront-minimum-tls", DIST, _dist(viewerCertificate__minimumProtocolVersion="TLSv1.2_2019"),
     _dist(viewerCertificate__minimumProtocolVersion="TLSv1.3_2025")),
    ("cloudfront-minimum-tls", DIST, _dist(viewerCertificate__minimumProtocolVersion=None),
     _dist(viewerCertificate__minimumProtocolVersion="TLSv1.2_2025")),
    ("cloudfront-minimum-tls", DIST,
     _dist(viewerCertificate={"cloudfrontDefaultCertificate": True, "minimumProtocolVersion": "TLSv1.2_2021"}), DIST_OK),
    ("cloudfront-s3-origin-oac", DIST,
     _dist(origins=[{"domainName": "b.s3.amazonaws.com", "originId": "s3",
                     "s3OriginConfig": {"originAccessIdentity": "origin-access-identity/cloudfront/E2"}}]), DIST_OK),
    ("cloudfront-s3-origin-oac", DIST, _dist(origins__0__originAccessControlId=None),
     _dist(origins=[{"domainName": "b.s3-website.ap-northeast-2.amazonaws.com", "originId": "site",
                     "customOriginConfig": {"originProtocolPolicy": "http-only", "httpPort": 80, "httpsPort": 443,
                                            "originSslProtocols": ["TLSv1.2"]}}])),
]


@pytest.mark.parametrize("policy, typ, bad, good", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires_on_the_violation_and_not_on_the_fix(pack, policy, typ, bad, good):
    assert policy in fired(pack, typ, bad), f"{policy} missed a violating {typ}"
    assert policy not in fired(pack, typ, good), f"{policy} fired on a compliant {typ}"


def _bucket_and_policy(doc):
    bucket = resource(BUCKET, {"bucket": "b", "tags": TAGS}, "bucket")
    policy = resource(POLICY, {"bucket": "b-id", "policy": json.dumps(doc)}, "policy", bucket=[bucket["urn"]])
    return bucket, policy


TLS_DENY = {"Sid": "x", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}


@pytest.mark.parametrize("statement", [
    {**TLS_DENY, "Effect": "Allow"},
    {**TLS_DENY, "Action": "s3:GetObject"},
    {**TLS_DENY, "Resource": "arn:aws:s3:::b/*"},
    {**TLS_DENY, "Condition": {"Bool": {"aws:SecureTransport": "true"}}},
    {**TLS_DENY, "Principal": {"Service": "cloudfront.amazonaws.com"}},
])
def test_stack_rule_bucket_policies_deny_insecure_transport(pack, statement):
    bucket, policy = _bucket_and_policy({"Version": "2012-10-17", "Statement": [statement]})
    assert stack_fired(pack, [bucket, policy]) == ["s3-deny-insecure-transport"]
    assert stack_fired(pack, [bucket]) == ["s3-deny-insecure-transport"], "a bucket with no policy at all"
    good = {**TLS_DENY, "Principal": {"AWS": "*"}, "Resource": "arn:aws:s3:::b*",
            "Condition": {"Bool": {"aws:securetransport": False}}}
    assert stack_fired(pack, list(_bucket_and_policy({"Version": "2012-10-17", "Statement": [good]}))) == []
    assert stack_fired(pack, list(_bucket_and_policy({"Version": "2012-10-17", "Statement": TLS_DENY}))) == []


def test_stack_rule_distributions_write_access_logs(pack):
    dist = resource(DIST, DIST_OK, "dist")
    source = resource(LOG_SOURCE, {"name": "src", "logType": "ACCESS_LOGS", "resourceArn": "arn:d", "tags": TAGS},
                      "source", resourceArn=[dist["urn"]])
    delivery = resource(LOG_DELIVERY, {"deliverySourceName": "src", "deliveryDestinationArn": "arn:dd", "tags": TAGS},
                        "delivery", deliverySourceName=[source["urn"]])
    assert stack_fired(pack, [dist, source, delivery]) == []
    assert stack_fired(pack, [dist]) == ["cloudfront-access-logs"]
    assert stack_fired(pack, [dist, source]) == ["cloudfront-access-logs"], "a source delivering nowhere"
    other = resource(DIST, DIST_OK, "other")
    assert stack_fired(pack, [dist, other, source, delivery]) == ["cloudfront-access-logs"]
    legacy = resource(DIST, {**DIST_OK, "loggingConfig": {"bucket": "logs.s3.amazonaws.com"}}, "legacy")
    assert stack_fired(pack, [legacy]) == []


def _sse(algorithm, name="sse", bucket=None):
    rules = [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}}] if algorithm else []
    deps = {"bucket": [bucket["urn"]]} if bucket else {}
    return resource(SSE, {"bucket": bucket["inputs"]["bucket"] if bucket else "b", "rules": rules}, name, **deps)


def _logging(source, target, name):
    return resource(LOGGING, {"bucket": source["inputs"]["bucket"], "targetBucket": target["inputs"]["bucket"],
                              "targetPrefix": "p/"}, name, bucket=[source["urn"]], targetBucket=[target["urn"]])


def _bucket(name):
    return resource(BUCKET, {"bucket": name, "tags": TAGS}, name)


def _kms_fired(pack, resources):
    return [p for p in stack_fired(pack, resources) if p == "s3-encryption-kms"]


def test_stack_rule_s3_encryption_kms_and_its_log_target_exception_is_exact(pack):
    data, logs, other = _bucket("data"), _bucket("logs"), _bucket("other")
    assert _kms_fired(pack, [_sse("aws:kms")]) == [] and _kms_fired(pack, [_sse("aws:kms:dsse")]) == []
    assert _kms_fired(pack, [_sse("AES256")]) == ["s3-encryption-kms"]
    assert _kms_fired(pack, [_sse(None)]) == ["s3-encryption-kms"], "no default encryption rule"
    logged = _logging(data, logs, "logging")
    # SSE-S3 on the bucket server access logs go to, which logs nowhere itself: the one exception.
    assert _kms_fired(pack, [data, logs, logged, _sse("aws:kms", "sse-data", data), _sse("AES256", "sse-logs", logs)]) == []
    # ... by name as well as by dependency (a preview where the ids are known)
    by_name = resource(SSE, {"bucket": "logs", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
                       "sse-logs")
    assert _kms_fired(pack, [logs, logged, by_name]) == []
    # Not for the source of the logs, nor for a bucket nobody logs to,
    assert _kms_fired(pack, [data, logs, logged, _sse("AES256", "sse-data", data)]) == ["s3-encryption-kms"]
    assert _kms_fired(pack, [data, logs, other, logged, _sse("AES256", "sse-other", other)]) == ["s3-encryption-kms"]
    # nor for a log target that is itself logged (a data bucket made a target to dodge the rule),
    chained = _logging(logs, other, "logging-2")
    assert _kms_fired(pack, [data, logs, other, logged, chained, _sse("AES256", "sse-logs", logs)]) == \
        ["s3-encryption-kms"]
    # nor for anything but SSE-S3 on a log target.
    assert _kms_fired(pack, [data, logs, logged, _sse("aws:fsx", "sse-logs", logs)]) == ["s3-encryption-kms"]


def test_the_shipped_prod_plan_passes_the_storage_rules_and_fails_them_when_broken(pack):
    resources = resources_from_preview(json.loads(dump(shipped("prod").doc)))
    mine = {"s3-deny-insecure-transport", "cloudfront-access-logs", "s3-encryption-kms"}
    assert mine.isdisjoint(stack_fired(pack, resources))
    # Without the logging configurations the log buckets' SSE-S3 is no longer excused.
    unlogged = [x for x in resources if x["type"] != LOGGING]
    assert [v for v in pack.analyze_stack(unlogged, {}) if v.policyName == "s3-encryption-kms"]
    no_source = [x for x in resources if x["type"] != LOG_SOURCE]
    assert "cloudfront-access-logs" in stack_fired(pack, no_source)
    no_policy = [x for x in resources if x["type"] != POLICY or "example-org-uploads-prod-usw2" != x["inputs"]["bucket"]]
    assert "s3-deny-insecure-transport" in stack_fired(pack, no_policy)

"""Data and logs: KMS keys rotate, log groups expire, S3 public access fully blocked."""

from .base import resource_rule

PUBLIC_BLOCK = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def _rotation(t, p):
    spec = p.get("customerMasterKeySpec", "SYMMETRIC_DEFAULT")
    if spec == "SYMMETRIC_DEFAULT" and p.get("enableKeyRotation") is not True:
        yield "the KMS key does not rotate"


def _retention(t, p):
    if not p.get("retentionInDays"):
        yield "the log group keeps logs forever (no retentionInDays)"


def _public_block(t, p):
    off = [k for k in PUBLIC_BLOCK if p.get(k) is not True]
    if off:
        yield f"public access block settings off: {', '.join(off)}"


POLICIES = [
    resource_rule("kms-key-rotation", "Symmetric KMS keys rotate.", "set enableKeyRotation: true",
                  ("aws:kms/key:Key",), _rotation),
    resource_rule("log-group-retention", "Log groups have a retention period.",
                  "set retentionInDays (e.g. 90, 365)", ("aws:cloudwatch/logGroup:LogGroup",), _retention),
    resource_rule("s3-public-access-block", "S3 public access blocks have all four settings on.",
                  "set blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets to true",
                  ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",), _public_block),
]

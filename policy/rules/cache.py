"""ElastiCache: replication groups are encrypted at rest and in transit (TLS required, not just
offered), authenticate their clients (an RBAC user group or an AUTH token), and in prod fail over
automatically across AZs. The environment comes from the resource's own `environment` tag."""

from .base import as_list, get, resource_rule

REPLICATION_GROUP = "aws:elasticache/replicationGroup:ReplicationGroup"


def _on(value) -> bool:
    # at_rest_encryption_enabled is a nullable bool in the provider; accept its string form too
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _at_rest(t, p):
    if not _on(p.get("atRestEncryptionEnabled")):
        yield "the replication group is not encrypted at rest (atRestEncryptionEnabled is not true)"


def _in_transit(t, p):
    if not _on(p.get("transitEncryptionEnabled")):
        yield "the replication group does not encrypt in transit (transitEncryptionEnabled is not true)"
    elif p.get("transitEncryptionMode") == "preferred":
        yield "transitEncryptionMode is preferred, which still accepts plaintext connections"


def _authenticated(t, p):
    # A write-only token shows only as its version in the inputs.
    if not as_list(p.get("userGroupIds")) and not p.get("authToken") and p.get("authTokenWoVersion") is None:
        yield "the replication group lets any client in (no userGroupIds and no AUTH token)"


def _multi_az_in_prod(t, p):
    if get(p, "tags", "environment") != "prod":
        return
    off = [k for k in ("automaticFailoverEnabled", "multiAzEnabled") if not _on(p.get(k))]
    if off:
        yield f"a prod replication group without {' and '.join(off)}"


POLICIES = [
    resource_rule("elasticache-encrypted-at-rest", "ElastiCache replication groups are encrypted at rest.",
                  "set atRestEncryptionEnabled: true (with kmsKeyId, a customer-managed key); it is fixed at creation",
                  (REPLICATION_GROUP,), _at_rest),
    resource_rule("elasticache-encrypted-in-transit", "ElastiCache replication groups require TLS.",
                  "set transitEncryptionEnabled: true and transitEncryptionMode: required",
                  (REPLICATION_GROUP,), _in_transit),
    resource_rule("elasticache-authenticated", "ElastiCache replication groups authenticate their clients.",
                  "attach an RBAC user group (userGroupIds) whose default user is off, or set an AUTH token",
                  (REPLICATION_GROUP,), _authenticated),
    resource_rule("elasticache-multi-az-in-prod", "prod ElastiCache replication groups fail over across AZs.",
                  "set automaticFailoverEnabled: true and multiAzEnabled: true (with at least one replica)",
                  (REPLICATION_GROUP,), _multi_az_in_prod),
]

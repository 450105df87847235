"""Databases (RDS and Aurora): storage encrypted, no instance reachable from the internet,
automated backups kept (a week or more in prod), deletion protection in prod, IAM database
authentication on.

A cluster in an Aurora global database takes its storage encryption from the global cluster
(CreateGlobalCluster StorageEncrypted; a secondary is encrypted with the KMS key of its own
region), so a member is judged on the GlobalCluster's setting, which this pack also checks. Its
backups, deletion protection and IAM authentication are its own settings (CreateDBCluster), and
every member is held to them. The environment is the resource's `environment` tag, as the
required-tags rule demands it."""

from .base import get, resource_rule

CLUSTER = "aws:rds/cluster:Cluster"
GLOBAL_CLUSTER = "aws:rds/globalCluster:GlobalCluster"
CLUSTER_INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
INSTANCE = "aws:rds/instance:Instance"
PROD_BACKUP_DAYS = 7
# Engines with IAM database authentication (RDS user guide, "IAM database authentication"):
# MariaDB, MySQL, PostgreSQL and the Aurora editions.
IAM_AUTH_ENGINES = ("mysql", "mariadb", "postgres", "aurora")


def _prod(p) -> bool:
    return get(p, "tags", "environment") == "prod"


def _storage_encrypted(t, p):
    if p.get("storageEncrypted") is True:
        return
    if t == GLOBAL_CLUSTER:
        # A global cluster made from an existing cluster takes that cluster's encryption.
        if not p.get("sourceDbClusterIdentifier"):
            yield "the global cluster's storage is not encrypted (storageEncrypted is not true)"
        return
    # A global member or cross-region replica inherits encryption; only an explicit false is wrong.
    inherits = t == CLUSTER and (p.get("globalClusterIdentifier") or p.get("replicationSourceIdentifier"))
    if inherits and p.get("storageEncrypted") is not False:
        return
    yield "the DB cluster's storage is not encrypted (storageEncrypted is not true)"


def _not_public(t, p):
    public = p.get("publiclyAccessible")
    if public is True:
        yield "the DB instance is publicly accessible"
    elif public is None:
        # Unset, RDS makes it public for a non-Aurora instance without a subnet group, and for any
        # instance in the `default` subnet group (CreateDBInstance, PubliclyAccessible).
        group = p.get("dbSubnetGroupName")
        if group == "default" or (t == INSTANCE and not group):
            yield "publiclyAccessible is unset and RDS defaults it to true here"


def _backups(t, p):
    days = p.get("backupRetentionPeriod")
    if days is None:
        # RDS's default (CreateDBCluster, CreateDBInstance); an Aurora cluster, global members
        # included, always keeps backups, one day unless set (Aurora user guide, "Overview of
        # backing up and restoring an Aurora DB cluster").
        days = 1
    if days < 1:
        yield "automated backups are off (backupRetentionPeriod 0)"
    elif _prod(p) and days < PROD_BACKUP_DAYS:
        yield f"prod keeps automated backups {PROD_BACKUP_DAYS} days or more; backupRetentionPeriod is {days}"


def _deletion_protection(t, p):
    if _prod(p) and p.get("deletionProtection") is not True:
        yield "a prod database without deletion protection"


def _iam_auth(t, p):
    if t == INSTANCE and (p.get("replicateSourceDb") or not str(p.get("engine", "")).startswith(IAM_AUTH_ENGINES)):
        return  # a read replica takes its source's setting; other engines have no IAM authentication
    if p.get("iamDatabaseAuthenticationEnabled") is not True:
        yield "IAM database authentication is off (iamDatabaseAuthenticationEnabled is not true)"


POLICIES = [
    resource_rule("rds-storage-encrypted", "RDS and Aurora storage is encrypted (global members: by the global "
                  "cluster).", "set storageEncrypted: true (and a customer-managed kmsKeyId)",
                  (CLUSTER, GLOBAL_CLUSTER, INSTANCE), _storage_encrypted),
    resource_rule("rds-not-public", "DB instances are not reachable from the internet.",
                  "set publiclyAccessible: false and use the database subnets' subnet group",
                  (CLUSTER_INSTANCE, INSTANCE), _not_public),
    resource_rule("rds-backups-retained", f"Automated backups are kept at least a day ({PROD_BACKUP_DAYS} in prod).",
                  f"set backupRetentionPeriod to 1-35 days ({PROD_BACKUP_DAYS} or more in prod)",
                  (CLUSTER, INSTANCE), _backups),
    resource_rule("rds-deletion-protection-prod", "Prod databases and global clusters have deletion protection.",
                  "set deletionProtection: true", (CLUSTER, GLOBAL_CLUSTER, INSTANCE), _deletion_protection),
    resource_rule("rds-iam-auth", "RDS and Aurora databases have IAM database authentication on.",
                  "set iamDatabaseAuthenticationEnabled: true", (CLUSTER, INSTANCE), _iam_auth),
]

"""Aurora MySQL: per region an encrypted cluster only the EKS nodes reach, TLS required, IAM
authentication, logs that expire, the master password kept by Secrets Manager; in prod one
global database (primary in the hub, secondaries with instances elsewhere, joined after the
primary's writer). And the database security rules, each on a violating and a compliant resource."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError
from components.naming import region_short_code
from components.database import (CLUSTER_PARAMETERS, LOG_EXPORTS, MASTER_USERNAME, MONITORING_INTERVAL,
                                 global_cluster_id, parameter_group_family)
from tests.helpers import run, run_tool, shipped, variant
from tools.plan_json import dump

CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
GLOBAL = "aws:rds/globalCluster:GlobalCluster"
KEY = "aws:kms/key:Key"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
PARAMS = "aws:rds/clusterParameterGroup:ClusterParameterGroup"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
ROLE = "aws:iam/role:Role"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
STACKS = ["dev", "prod", "airgap"]


def clusters(r) -> dict:
    """Cluster registrations by region."""
    return {r.region_of(c): c for c in r.of_type(CLUSTER)}


def in_region(r, typ: str, region: str) -> list:
    return [x for x in r.of_type(typ) if r.region_of(x) == region]


def one(items: list):
    assert len(items) == 1, [x.urn for x in items]
    return items[0]


def by_output(r, typ: str, key: str, value) -> object:
    return one([x for x in r.of_type(typ) if x.outputs.get(key) == value])


def instances_of(r, cluster) -> list:
    return sorted((i for i in r.of_type(INSTANCE) if i.inputs["clusterIdentifier"] == cluster.id),
                  key=lambda i: i.inputs["identifier"])


@pytest.mark.parametrize("stack", STACKS)
def test_each_region_gets_an_encrypted_iam_authenticated_cluster_in_its_database_subnets(stack):
    r = shipped(stack)
    spec = r.spec.config.data.aurora
    got = clusters(r)
    assert sorted(got) == sorted(r.spec.config.region_names)
    for region, c in got.items():
        i = c.inputs
        assert i["clusterIdentifier"] == f"{r.spec.config.environment}-{c.urn.split('::')[-1].split('-')[0]}-aurora"
        assert (i["engine"], i["engineVersion"], i["port"]) == ("aurora-mysql", spec.engine_version, 3306)
        assert i["storageEncrypted"] is True and i["iamDatabaseAuthenticationEnabled"] is True, c.urn
        key = by_output(r, KEY, "arn", i["kmsKeyId"])
        assert r.region_of(key) == region and "Aurora" in key.inputs["description"]
        assert key.inputs["enableKeyRotation"] is True and key.protect == (stack == "prod")
        sids = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
        assert sids["UseThroughRdsAndSecretsManager"]["Condition"]["StringEquals"]["kms:ViaService"] == [
            f"rds.{region}.amazonaws.com", f"secretsmanager.{region}.amazonaws.com"]
        assert i["performanceInsightsEnabled"] is True and i["performanceInsightsKmsKeyId"] == i["kmsKeyId"]
        assert i["backupRetentionPeriod"] == spec.backup_retention_days
        assert i["autoMinorVersionUpgrade"] is False  # an LTS release stays on its line
        group = one([g for g in r.of_type("aws:rds/subnetGroup:SubnetGroup") if r.region_of(g) == region])
        assert i["dbSubnetGroupName"] == group.outputs["name"]


@pytest.mark.parametrize("stack", STACKS)
def test_only_the_clusters_nodes_reach_3306(stack):
    r = shipped(stack)
    for region, c in clusters(r).items():
        (sg_id,) = c.inputs["vpcSecurityGroupIds"]
        sg = one([s for s in r.of_type(SG) if s.id == sg_id])
        assert not sg.inputs.get("ingress") and not sg.inputs.get("egress"), "no inline rules, no egress"
        rule = one([x for x in r.of_type(INGRESS) if x.inputs["securityGroupId"] == sg_id])
        # a remote component: its region is in its name (<region code>-eks), not in a provider
        eks = one([e for e in r.of_type("eks:index:Cluster") if e.name == f"{region_short_code(region)}-eks"])
        assert rule.inputs["referencedSecurityGroupId"] == eks.outputs["clusterSecurityGroupId"]
        # ...and that output is the group EKS puts on every node only without pulumi-eks's own groups
        assert eks.inputs["skipDefaultSecurityGroups"] is True, eks.urn
        assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 3306, 3306)
        assert not rule.inputs.get("cidrIpv4") and not rule.inputs.get("cidrIpv6")


@pytest.mark.parametrize("stack", STACKS)
def test_tls_is_required_and_the_audit_log_written_by_the_parameter_group(stack):
    r = shipped(stack)
    for region, c in clusters(r).items():
        group = one([g for g in in_region(r, PARAMS, region)
                     if g.inputs["name"] == c.inputs["dbClusterParameterGroupName"]])
        assert group.inputs["family"] == "aurora-mysql8.0" == parameter_group_family(c.inputs["engineVersion"])
        values = {p["name"]: p["value"] for p in group.inputs["parameters"]}
        assert values == dict(CLUSTER_PARAMETERS)
        assert values["require_secure_transport"] == "ON" and values["server_audit_logging"] == "1"
        assert "." not in group.inputs["name"], "custom parameter group names take no periods"


@pytest.mark.parametrize("stack", STACKS)
def test_exported_logs_land_in_groups_made_first_with_retention_and_the_logs_key(stack):
    r = shipped(stack)
    spec = r.spec.config.data.aurora
    for region, c in clusters(r).items():
        cid = c.inputs["clusterIdentifier"]
        assert c.inputs["enabledCloudwatchLogsExports"] == list(LOG_EXPORTS)
        logs_key = one([k for k in in_region(r, KEY, region) if "CloudWatch Logs" in k.inputs["description"]])
        for kind in LOG_EXPORTS:
            group = one([g for g in r.of_type(LOG_GROUP) if g.inputs["name"] == f"/aws/rds/cluster/{cid}/{kind}"])
            assert r.region_of(group) == region
            assert group.inputs["retentionInDays"] == spec.log_retention_days
            assert group.inputs["kmsKeyId"] == logs_key.outputs["arn"]
            assert group.urn in c.dependencies, f"{cid} must wait for {group.inputs['name']}"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_instances_spread_over_the_azs_behind_a_writer_with_monitoring(stack):
    r = shipped(stack)
    spec = r.spec.config.data.aurora
    for region, c in clusters(r).items():
        cid = c.inputs["clusterIdentifier"]
        found = instances_of(r, c)
        assert [i.inputs["identifier"] for i in found] == [f"{cid}-{n}" for n in range(1, spec.instances + 1)]
        subnets = [s for s in in_region(r, "aws:ec2/subnet:Subnet", region) if s.inputs["tags"].get("tier") == "database"]
        azs = sorted(s.inputs["availabilityZone"] for s in subnets)
        assert [i.inputs["availabilityZone"] for i in found] == [azs[n % len(azs)] for n in range(len(found))]
        role = by_output(r, ROLE, "arn", c.inputs["monitoringRoleArn"])
        for n, inst in enumerate(found):
            i = inst.inputs
            assert i["publiclyAccessible"] is False and i["instanceClass"] == spec.instance_class
            assert i["dbSubnetGroupName"] == c.inputs["dbSubnetGroupName"]
            assert i["promotionTier"] == (0 if n == 0 else 1)
            # the cluster's monitoring settings on every instance (Database Insights wants them alike)
            assert (i["monitoringInterval"], i["monitoringRoleArn"]) == (MONITORING_INTERVAL, role.outputs["arn"])
            assert c.inputs["monitoringInterval"] == MONITORING_INTERVAL
            assert i["performanceInsightsKmsKeyId"] == c.inputs["kmsKeyId"]
            if n:
                assert found[0].urn in inst.dependencies, "readers come after the writer"
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"][0]
        assert trust["Principal"] == {"Service": "monitoring.rds.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}
        attach = one([a for a in r.of_type(ATTACHMENT) if a.inputs["role"] == role.outputs["name"]])
        assert attach.inputs["policyArn"] == "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
        assert attach.urn in c.dependencies


@pytest.mark.parametrize("stack", ["dev", "airgap"])
def test_a_standalone_cluster_has_rds_keep_its_master_password(stack):
    r = shipped(stack)
    assert not r.of_type(GLOBAL) and not [s for s in r.of_type(SECRET) if "aurora" in s.inputs["name"]]
    for c in clusters(r).values():
        i = c.inputs
        assert i["manageMasterUserPassword"] is True and i["masterUsername"] == MASTER_USERNAME
        assert i["masterUserSecretKmsKeyId"] == i["kmsKeyId"]
        assert not {"masterPassword", "masterPasswordWo", "globalClusterIdentifier"} & set(i)
        # not prod: no deletion protection, no final snapshot, not protected
        assert i["deletionProtection"] is False and i["skipFinalSnapshot"] is True and not c.protect


def test_prod_is_one_global_database_primary_in_the_hub():
    r = shipped("prod")
    hub = r.spec.config.hub.name
    spec = r.spec.config.data.aurora
    g = one(r.of_type(GLOBAL))
    assert r.region_of(g) == hub and g.id == global_cluster_id("prod") == g.inputs["globalClusterIdentifier"]
    assert g.inputs["storageEncrypted"] is True and g.inputs["deletionProtection"] is True and g.protect
    assert (g.inputs["engine"], g.inputs["engineVersion"]) == ("aurora-mysql", spec.engine_version)

    got = clusters(r)
    primary = got.pop(hub)
    p = primary.inputs
    assert p["globalClusterIdentifier"] == g.id and g.urn in primary.dependencies
    assert primary.options.get("ignoreChanges") == ["engineVersion"]
    # RDS cannot manage a global member's master password: the primary's comes from our secret
    assert "manageMasterUserPassword" not in p and "masterPassword" not in p
    assert p["masterUsername"] == MASTER_USERNAME and p["masterPasswordWo"] == "[secret]"
    assert primary.revealed["masterPasswordWo"] == "offline-preview-secret", "read back from Secrets Manager"
    secret = one([s for s in r.of_type(SECRET) if s.inputs["name"] == f"{p['clusterIdentifier']}-master"])
    assert secret.inputs["kmsKeyId"] == p["kmsKeyId"] and secret.protect
    version = one([v for v in r.of_type(SECRET_VERSION) if v.inputs["secretId"] == secret.outputs["arn"]])
    assert version.inputs["secretStringWo"] == "[secret]"
    assert json.loads(version.revealed["secretStringWo"])["username"] == MASTER_USERNAME
    assert version.inputs["secretStringWoVersion"] == p["masterPasswordWoVersion"]
    assert version.urn in primary.dependencies
    writer = instances_of(r, primary)[0]

    assert sorted(got) == sorted(set(r.spec.config.region_names) - {hub})
    for region, sec in got.items():
        s = sec.inputs
        assert s["globalClusterIdentifier"] == g.id and s["sourceRegion"] == hub
        assert not {"masterUsername", "masterPassword", "masterPasswordWo", "manageMasterUserPassword"} & set(s)
        key = by_output(r, KEY, "arn", s["kmsKeyId"])
        assert r.region_of(key) == region and s["storageEncrypted"] is True
        assert primary.urn in sec.dependencies and writer.urn in sec.dependencies, "after the primary's writer"
        assert sorted(sec.options.get("ignoreChanges")) == ["engineVersion", "replicationSourceIdentifier"]
        assert len(instances_of(r, sec)) == spec.instances, "a secondary has instances of its own"
        assert sec.inputs["tags"]["aurora-role"] == "secondary"


def test_prod_clusters_are_protected_and_leave_a_final_snapshot():
    r = shipped("prod")
    for c in clusters(r).values():
        i = c.inputs
        assert i["deletionProtection"] is True and c.protect
        assert i["skipFinalSnapshot"] is False and i["finalSnapshotIdentifier"] == f"{i['clusterIdentifier']}-final"
        assert i["backupRetentionPeriod"] >= 7 and i["deleteAutomatedBackups"] is False


def test_without_global_each_prod_region_is_standalone_and_aurora_regions_limit_it(tmp_path):
    aurora = {"global": False, "regions": ["ap-northeast-2", "us-west-2"]}
    # prod's chaos experiments stop on db-replica-lag everywhere; apne1 no longer has it
    chaos = {"stopOn": ["web-p99-latency", "web-5xx-rate", "fulfilment-queue-age"]}
    r = run("prod", variant(tmp_path, "prod", data={"aurora": aurora}, chaos=chaos))
    assert not r.of_type(GLOBAL)
    got = clusters(r)
    assert sorted(got) == ["ap-northeast-2", "us-west-2"]
    assert all(c.inputs["manageMasterUserPassword"] is True for c in got.values())


@pytest.mark.parametrize("instance_class, needle", [("db.m7g.large", "not memory-optimized"),
                                                    ("db.t4g.medium", "burstable")])
def test_a_global_database_refuses_classes_that_are_not_memory_optimized(tmp_path, instance_class, needle):
    with pytest.raises(ConfigError) as err:
        run("prod", variant(tmp_path, "prod", data={"aurora": {"instanceClass": instance_class}}))
    text = err.value.render()
    assert "global-platform:data.aurora.instanceClass" in text and needle in text, text


# -- security rules -------------------------------------------------------------------------

TAGS = {"environment": "prod", "owner": "team", "managed-by": "pulumi", "region": "ap-northeast-2"}
DEV = {**TAGS, "environment": "dev"}
CLUSTER_OK = {"engine": "aurora-mysql", "storageEncrypted": True, "kmsKeyId": "arn:k", "backupRetentionPeriod": 7,
              "deletionProtection": True, "iamDatabaseAuthenticationEnabled": True, "tags": TAGS}
SECONDARY = {k: v for k, v in CLUSTER_OK.items() if k not in ("storageEncrypted", "kmsKeyId")}
SECONDARY = {**SECONDARY, "globalClusterIdentifier": "prod-aurora", "sourceRegion": "ap-northeast-2"}
INSTANCE_OK = {"engine": "aurora-mysql", "clusterIdentifier": "c", "instanceClass": "db.r7g.large",
               "dbSubnetGroupName": "db", "publiclyAccessible": False, "tags": TAGS}
DB_OK = {"engine": "mysql", "instanceClass": "db.r7g.large", "dbSubnetGroupName": "db", "publiclyAccessible": False,
         "storageEncrypted": True, "backupRetentionPeriod": 7, "deletionProtection": True,
         "iamDatabaseAuthenticationEnabled": True, "tags": TAGS}
GLOBAL_OK = {"globalClusterIdentifier": "g", "engine": "aurora-mysql", "storageEncrypted": True,
             "deletionProtection": True, "tags": TAGS}
DB = "aws:rds/instance:Instance"


def without(props: dict, *keys: str) -> dict:
    return {k: v for k, v in props.items() if k not in keys}


RULE_CASES = [
    # (policy, type, violating, compliant)
    ("rds-storage-encrypted", CLUSTER, without(CLUSTER_OK, "storageEncrypted"), CLUSTER_OK),
    ("rds-storage-encrypted", CLUSTER, {**SECONDARY, "storageEncrypted": False}, SECONDARY),  # inherits
    ("rds-storage-encrypted", GLOBAL, without(GLOBAL_OK, "storageEncrypted"), GLOBAL_OK),
    ("rds-storage-encrypted", GLOBAL, {**GLOBAL_OK, "storageEncrypted": False},
     {**without(GLOBAL_OK, "storageEncrypted", "engine"), "sourceDbClusterIdentifier": "arn:c", "forceDestroy": True}),
    ("rds-storage-encrypted", DB, {**DB_OK, "storageEncrypted": False}, DB_OK),
    ("rds-not-public", INSTANCE, {**INSTANCE_OK, "publiclyAccessible": True}, INSTANCE_OK),
    ("rds-not-public", INSTANCE, {**without(INSTANCE_OK, "publiclyAccessible"), "dbSubnetGroupName": "default"},
     without(INSTANCE_OK, "publiclyAccessible")),
    ("rds-not-public", DB, without(DB_OK, "publiclyAccessible", "dbSubnetGroupName"), DB_OK),
    ("rds-backups-retained", CLUSTER, {**CLUSTER_OK, "backupRetentionPeriod": 3},
     {**CLUSTER_OK, "backupRetentionPeriod": 3, "deletionProtection": False, "tags": DEV}),
    ("rds-backups-retained", CLUSTER, without(CLUSTER_OK, "backupRetentionPeriod"), CLUSTER_OK),  # default 1
    ("rds-backups-retained", CLUSTER, without(SECONDARY, "backupRetentionPeriod"), SECONDARY),
    ("rds-backups-retained", DB, {**DB_OK, "backupRetentionPeriod": 0, "tags": DEV}, {**DB_OK, "tags": DEV}),
    ("rds-deletion-protection-prod", CLUSTER, {**CLUSTER_OK, "deletionProtection": False},
     {**CLUSTER_OK, "deletionProtection": False, "tags": DEV}),
    ("rds-deletion-protection-prod", GLOBAL, without(GLOBAL_OK, "deletionProtection"), GLOBAL_OK),
    ("rds-deletion-protection-prod", CLUSTER, without(SECONDARY, "deletionProtection"), SECONDARY),
    ("rds-iam-auth", CLUSTER, without(CLUSTER_OK, "iamDatabaseAuthenticationEnabled"), CLUSTER_OK),
    ("rds-iam-auth", CLUSTER, {**SECONDARY, "iamDatabaseAuthenticationEnabled": False}, SECONDARY),
    ("rds-iam-auth", DB, without(DB_OK, "iamDatabaseAuthenticationEnabled"),
     {**without(DB_OK, "iamDatabaseAuthenticationEnabled"), "engine": "sqlserver-se"}),
]


@pytest.fixture
def pack(security_pack):
    return security_pack


def fired(pack, typ, props):
    resource = {"type": typ, "inputs": props, "urn": f"urn:pulumi:prod::global-platform::{typ}::r", "name": "r",
                "parent": "", "provider": "", "dependencies": [], "propertyDependencies": {}}
    return {d.policyName for d in pack.analyze(resource, {})}


@pytest.mark.parametrize("policy, typ, bad, good", RULE_CASES,
                         ids=[f"{c[0]}-{c[1].split(':')[-1]}-{i}" for i, c in enumerate(RULE_CASES)])
def test_database_rule_fires_on_the_violation_and_not_on_the_fix(pack, policy, typ, bad, good):
    assert policy in fired(pack, typ, bad), f"{policy} missed a violating {typ}"
    assert policy not in fired(pack, typ, good), f"{policy} fired on a compliant {typ}"


def test_the_shipped_data_tier_breaks_no_database_rule(tmp_path):
    for stack in STACKS:
        path = tmp_path / f"{stack}.json"
        path.write_text(dump(shipped(stack).doc))
        out = tmp_path / f"{stack}-violations.json"
        proc = run_tool("tools.policy_check", "--preview-json", path, "--stack", stack, "--json", out)
        violations = [v for v in json.loads(out.read_text())["violations"] if v["policyName"].startswith("rds-")]
        assert violations == [], proc.stdout

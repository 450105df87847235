"""bootstrap/: Pulumi's state bucket, the secrets keys and the GitHub OIDC roles, run through the
same offline preview, packs and upstream checks as the platform."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import yaml

from tools.offline import ProgramError
from tools.preview import PROJECT_DIR, preview
from tests.helpers import run_tool

BOOTSTRAP = PROJECT_DIR / "bootstrap"
NS = "global-platform-bootstrap"
REPO = "example-org/global-platform"
ACCOUNT = "123456789012"  # the mocks' account
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
ADMIN = ("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/ap-northeast-2/"
         "AWSReservedSSO_PlatformAdmin_0123456789abcdef")
BUCKET = "example-org-global-platform-pulumi-state"
BUCKET_ARN = f"arn:aws:s3:::{BUCKET}"


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


DEPLOY = {e: role_arn(f"global-platform-ci-deploy-{e}") for e in ("dev", "prod", "airgap")}
PREVIEW = role_arn("global-platform-ci-preview")


class Run:
    def __init__(self, capture, doc):
        self.regs = capture.registrations
        self.outputs = capture.stack_outputs
        self.doc = doc

    def of_type(self, typ: str) -> list:
        return sorted((r for r in self.regs.values() if r.type == "aws:" + typ), key=lambda r: r.urn)

    def one(self, typ: str, name: str):
        found = [r for r in self.of_type(typ) if r.name == name]
        assert len(found) == 1, (typ, name, [r.name for r in self.of_type(typ)])
        return found[0]

    def waits_for(self, r) -> set[str]:
        seen, todo = set(), [r.urn]
        while todo:
            reg = self.regs[todo.pop()]
            for d in [*reg.dependencies, *(u for us in reg.property_dependencies.values() for u in us)]:
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return seen


def run_stack(path: Path | None = None) -> Run:
    _, capture, doc = preview("org", BOOTSTRAP, None, path)
    return Run(capture, doc)


@functools.lru_cache(maxsize=None)
def shipped() -> Run:
    return run_stack()


def variant(tmp_path: Path, **overrides) -> Path:
    doc = yaml.safe_load((BOOTSTRAP / "Pulumi.org.yaml").read_text())
    for key, value in overrides.items():
        if value is None:
            doc["config"].pop(f"{NS}:{key}", None)
        else:
            doc["config"][f"{NS}:{key}"] = value
    path = tmp_path / "Pulumi.org-variant.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def statements(doc: str) -> list[dict]:
    return json.loads(doc)["Statement"]


def by_sid(doc: str) -> dict[str, dict]:
    return {s["Sid"]: s for s in statements(doc)}


def as_set(v) -> set:
    return set(v) if isinstance(v, list) else {v}


# -- state bucket ----------------------------------------------------------------------------------
def test_state_bucket_settings():
    r = shipped()
    bucket = r.one("s3/bucket:Bucket", "state")
    assert bucket.inputs["bucket"] == BUCKET and bucket.protect and bucket.inputs["forceDestroy"] is False
    assert r.one("s3/bucketVersioning:BucketVersioning", "state-versioning").inputs[
        "versioningConfiguration"]["status"] == "Enabled"
    pab = r.one("s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "state-public-access").inputs
    assert all(pab[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls",
                                        "restrictPublicBuckets"))
    assert r.one("s3/bucketOwnershipControls:BucketOwnershipControls", "state-ownership").inputs[
        "rule"]["objectOwnership"] == "BucketOwnerEnforced"
    sse = r.one("s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                "state-encryption").inputs["rules"][0]
    state_key = r.one("kms/key:Key", "state-key")
    assert sse["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms",
                                                         "kmsMasterKeyId": state_key.outputs["arn"]}
    assert sse["bucketKeyEnabled"] is True
    rule = r.one("s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "state-lifecycle").inputs["rules"][0]
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 90
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 7


def test_bucket_settings_are_one_chain_after_the_bucket():
    r = shipped()
    chain = ["s3/bucketOwnershipControls:BucketOwnershipControls:state-ownership",
             "s3/bucketPublicAccessBlock:BucketPublicAccessBlock:state-public-access",
             "s3/bucketVersioning:BucketVersioning:state-versioning",
             "s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration:state-encryption",
             "s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration:state-lifecycle",
             "s3/bucketPolicy:BucketPolicy:state-policy"]
    regs = [r.one(*c.rsplit(":", 1)) for c in chain]
    for before, after in zip(regs, regs[1:]):
        assert before.urn in r.waits_for(after), (before.name, after.name)


def test_lifecycle_days_come_from_config(tmp_path):
    r = run_stack(variant(tmp_path, noncurrentVersionExpiryDays=30))
    rule = r.one("s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "state-lifecycle").inputs["rules"][0]
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 30


def test_bucket_policy_tls_only_and_each_prefix_its_own_writer():
    sids = by_sid(shipped().one("s3/bucketPolicy:BucketPolicy", "state-policy").inputs["policy"])
    tls = sids["DenyInsecureTransport"]
    assert tls["Effect"] == "Deny" and tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(tls["Resource"]) == {BUCKET_ARN, f"{BUCKET_ARN}/*"}
    writes = sids["DenyDevStateWrites"]
    assert writes["Resource"] == f"{BUCKET_ARN}/dev/*" and "s3:PutObject" in writes["Action"]
    assert set(writes["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == {DEPLOY["dev"], ADMIN}
    assert set(sids["DenyProdStateWrites"]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]) == {DEPLOY["prod"], ADMIN}
    # The preview role reads the environments pull requests preview, not airgap.
    assert PREVIEW in sids["DenyDevStateReads"]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert PREVIEW not in sids["DenyAirgapStateReads"]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert sids["DenyBucketChangesButAdmins"]["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [ADMIN]
    # Everything outside the environments' prefixes (the bootstrap stack's own state): admins only.
    other = sids["DenyOtherObjectsButAdmins"]
    assert other["NotResource"] == [f"{BUCKET_ARN}/{e}/*" for e in ("airgap", "dev", "prod")]
    assert other["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] == [ADMIN]


def test_state_bucket_logs_to_its_access_log_bucket():
    r = shipped()
    logs = r.one("s3/bucket:Bucket", "access-logs")
    assert logs.inputs["bucket"] == f"{BUCKET}-access-logs" and logs.protect
    logging = r.one("s3/bucketLogging:BucketLogging", "state-logging")
    assert logging.inputs["targetPrefix"] == f"{BUCKET}/"
    log_policy = r.one("s3/bucketPolicy:BucketPolicy", "access-logs-policy")
    assert {r.one("s3/bucketPolicy:BucketPolicy", "state-policy").urn, log_policy.urn} <= r.waits_for(logging)
    delivery = by_sid(log_policy.inputs["policy"])["ServerAccessLogsFromStateBucket"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Resource"] == f"arn:aws:s3:::{BUCKET}-access-logs/{BUCKET}/*"
    assert delivery["Condition"] == {"ArnLike": {"aws:SourceArn": BUCKET_ARN},
                                     "StringEquals": {"aws:SourceAccount": ACCOUNT}}
    rule = r.one("s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                 "access-logs-lifecycle").inputs["rules"][0]
    assert rule["expiration"]["days"] == 365


# -- keys --------------------------------------------------------------------------------------------
def test_keys_protected_rotating_and_never_delegated_to_iam():
    r = shipped()
    keys = r.of_type("kms/key:Key")
    assert {k.name for k in keys} == {"state-key", "secrets-dev", "secrets-prod", "secrets-airgap",
                                      "secrets-bootstrap"}
    for k in keys:
        assert k.protect and k.inputs["enableKeyRotation"] is True
        principals = [p for s in statements(k.inputs["policy"]) for p in as_set(s["Principal"]["AWS"])]
        # No account-root statement: PowerUserAccess's kms:* must not reach these keys.
        assert not any(p.endswith(":root") for p in principals), k.name
        admin = by_sid(k.inputs["policy"])["KeyAdministration"]
        assert as_set(admin["Principal"]["AWS"]) == {ADMIN}
        assert not {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} & set(admin["Action"])
    aliases = {a.inputs["name"] for a in r.of_type("kms/alias:Alias")}
    assert aliases == {"alias/global-platform/pulumi-state", *(f"alias/global-platform/pulumi-secrets/{e}"
                                                              for e in ("dev", "prod", "airgap", "bootstrap"))}


def test_state_key_names_writers_and_readers_through_s3_only():
    sids = by_sid(shipped().one("kms/key:Key", "state-key").inputs["policy"])
    rw, ro = sids["StateObjectsReadWrite"], sids["StateObjectsRead"]
    assert as_set(rw["Principal"]["AWS"]) == {*DEPLOY.values(), ADMIN}
    assert set(rw["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert as_set(ro["Principal"]["AWS"]) == {PREVIEW} and ro["Action"] == "kms:Decrypt"
    for s in (rw, ro):
        assert s["Condition"] == {"StringEquals": {"kms:ViaService": "s3.ap-northeast-2.amazonaws.com"}}


def test_bootstrap_stack_secrets_key_is_the_admins_alone():
    r = shipped()
    sids = by_sid(r.one("kms/key:Key", "secrets-bootstrap").inputs["policy"])
    assert as_set(sids["StackSecretsEncryptDecrypt"]["Principal"]["AWS"]) == {ADMIN}
    assert "StackSecretsDecrypt" not in sids
    assert r.outputs["bootstrapBackendUrl"] == f"s3://{BUCKET}/bootstrap?region=ap-northeast-2"
    assert r.outputs["bootstrapSecretsProvider"] == (
        "awskms://alias/global-platform/pulumi-secrets/bootstrap?region=ap-northeast-2")


@pytest.mark.parametrize("env,previewed", [("dev", True), ("prod", True), ("airgap", False)])
def test_secrets_key_per_environment(env, previewed):
    sids = by_sid(shipped().one("kms/key:Key", f"secrets-{env}").inputs["policy"])
    use = sids["StackSecretsEncryptDecrypt"]
    assert as_set(use["Principal"]["AWS"]) == {DEPLOY[env], ADMIN}  # no other environment's role
    assert set(use["Action"]) == {"kms:Encrypt", "kms:Decrypt"}
    if previewed:
        assert as_set(sids["StackSecretsDecrypt"]["Principal"]["AWS"]) == {PREVIEW}
        assert sids["StackSecretsDecrypt"]["Action"] == "kms:Decrypt"
    else:
        assert "StackSecretsDecrypt" not in sids


def test_keys_and_bucket_policy_wait_for_the_roles_they_name():
    r = shipped()
    roles = {x.name: x.urn for x in r.of_type("iam/role:Role")}
    assert set(roles.values()) <= r.waits_for(r.one("kms/key:Key", "state-key"))
    assert set(roles.values()) <= r.waits_for(r.one("s3/bucketPolicy:BucketPolicy", "state-policy"))
    provider = r.one("iam/openIdConnectProvider:OpenIdConnectProvider", "github-oidc")
    for role in r.of_type("iam/role:Role"):
        assert provider.urn in r.waits_for(role)


# -- CI identity -------------------------------------------------------------------------------------
def test_oidc_provider():
    p = shipped().one("iam/openIdConnectProvider:OpenIdConnectProvider", "github-oidc").inputs
    assert p["url"] == "https://token.actions.githubusercontent.com"
    assert p["clientIdLists"] == ["sts.amazonaws.com"]
    assert "thumbprintLists" not in p


@pytest.mark.parametrize("env", ["dev", "prod", "airgap"])
def test_deploy_role_trusts_only_its_environment(env):
    role = shipped().one("iam/role:Role", f"deploy-{env}")
    assert role.inputs["name"] == f"global-platform-ci-deploy-{env}"
    [st] = statements(role.inputs["assumeRolePolicy"])
    assert st["Principal"] == {"Federated": PROVIDER_ARN} and st["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert st["Condition"] == {"StringEquals": {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": f"repo:{REPO}:environment:{env}"}}
    assert role.inputs["maxSessionDuration"] == 7200


def test_deploy_role_permissions():
    r = shipped()
    attached = {a.inputs["policyArn"] for a in r.of_type("iam/rolePolicyAttachment:RolePolicyAttachment")
                if a.name == "deploy-dev-power-user"}
    assert attached == {"arn:aws:iam::aws:policy/PowerUserAccess"}
    sids = by_sid(r.one("iam/rolePolicy:RolePolicy", "deploy-dev").inputs["policy"])
    assert sids["StateObjects"]["Resource"] == [f"{BUCKET_ARN}/dev/*"]
    assert set(sids["StateObjects"]["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
    assert sids["StackSecrets"]["Resource"] == r.one("kms/key:Key", "secrets-dev").outputs["arn"]
    assert all(res.startswith(f"arn:aws:iam::{ACCOUNT}:") for res in sids["PlatformIam"]["Resource"])
    guard = sids["DenyCiRoleChanges"]
    assert guard["Effect"] == "Deny" and guard["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/global-platform-ci-*"
    assert "iam:UpdateAssumeRolePolicy" in guard["Action"]


def test_preview_role_is_read_only():
    r = shipped()
    role = r.one("iam/role:Role", "preview")
    [st] = statements(role.inputs["assumeRolePolicy"])
    assert st["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == f"repo:{REPO}:pull_request"
    attached = {a.inputs["policyArn"] for a in r.of_type("iam/rolePolicyAttachment:RolePolicyAttachment")
                if a.inputs["role"] == role.inputs["name"]}
    assert attached == {"arn:aws:iam::aws:policy/ReadOnlyAccess"}
    policy = statements(r.one("iam/rolePolicy:RolePolicy", "preview").inputs["policy"])
    allowed = {a for s in policy if s["Effect"] == "Allow" for a in as_set(s["Action"])}
    assert allowed == {"s3:ListBucket", "s3:GetObject", "kms:Decrypt", "secretsmanager:GetSecretValue"}
    sids = {s["Sid"]: s for s in policy}
    assert sids["StateObjects"]["Resource"] == [f"{BUCKET_ARN}/dev/*", f"{BUCKET_ARN}/prod/*"]
    assert sids["DenyObjectsOutsideState"]["NotResource"] == sids["StateObjects"]["Resource"]
    assert sids["StackSecrets"]["Resource"] == sorted(r.one("kms/key:Key", f"secrets-{e}").outputs["arn"]
                                                      for e in ("dev", "prod"))


def test_existing_oidc_provider_is_reused(tmp_path):
    existing = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    r = run_stack(variant(tmp_path, existingOidcProviderArn=existing))
    assert r.of_type("iam/openIdConnectProvider:OpenIdConnectProvider") == []
    [st] = statements(r.one("iam/role:Role", "deploy-prod").inputs["assumeRolePolicy"])
    assert st["Principal"] == {"Federated": existing}


# -- outputs: what the guide and the workflows read ---------------------------------------------------
def test_outputs_for_the_guide_and_the_workflows():
    out = shipped().outputs
    assert out["backendUrls"]["prod"] == f"s3://{BUCKET}/prod?region=ap-northeast-2"
    assert out["secretsProviders"]["dev"] == "awskms://alias/global-platform/pulumi-secrets/dev?region=ap-northeast-2"
    assert out["deployRoleArns"] == DEPLOY and out["previewRoleArn"] == PREVIEW
    assert out["githubVariables"]["repository"] == {"AWS_PREVIEW_ROLE_ARN": PREVIEW, "PULUMI_STATE_BUCKET": BUCKET,
                                                    "PULUMI_STATE_REGION": "ap-northeast-2"}
    assert out["githubVariables"]["environments"]["prod"] == {"AWS_DEPLOY_ROLE_ARN": DEPLOY["prod"]}


def test_workflows_read_the_variables_bootstrap_outputs():
    names = set(shipped().outputs["githubVariables"]["repository"]) | {"AWS_DEPLOY_ROLE_ARN"}
    text = "".join(p.read_text() for p in (PROJECT_DIR / ".github" / "workflows").glob("*.yml"))
    used = {n for n in names if f"vars.{n}" in text}
    assert used == names


# -- bad config ------------------------------------------------------------------------------------
@pytest.mark.parametrize("overrides,key,reason", [
    ({"githubRepository": None}, "githubRepository", "required key is missing"),
    ({"githubRepository": "example-org"}, "githubRepository", "is not ORG/REPO"),
    ({"stateBucket": "Example_Bucket"}, "stateBucket", "is not an S3 bucket name"),
    ({"stateBucket": "xn--state"}, "stateBucket", "reserves"),
    ({"previewEnvironments": ["dev", "qa"]}, "previewEnvironments", "not in environments: qa"),
    ({"environments": ["dev", "dev"]}, "environments", "listed more than once: dev"),
    ({"keyAdministrators": ["arn:aws:iam::123:role/x"]}, "keyAdministrators[0]", "is not an IAM role or user ARN"),
    ({"keyAdministrators": []}, "keyAdministrators", "at least 1"),
    ({"noncurrentVersionExpiryDays": 0}, "noncurrentVersionExpiryDays", "greater than or equal to 1"),
    ({"existingOidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/example.com"},
     "existingOidcProviderArn", "token.actions.githubusercontent.com"),
    ({"rolePrefix": "x" * 60}, "rolePrefix", "longer than IAM's 64 characters"),
    ({"stateBucket": "a" * 60}, "stateBucket", "access log bucket"),
    ({"environments": ["dev", "bootstrap"]}, "environments", "this stack's own state"),
    ({"stateBuckett": "typo"}, "stateBuckett", "unknown key"),
])
def test_bad_config_names_the_key_and_registers_nothing(tmp_path, overrides, key, reason):
    with pytest.raises(ProgramError) as err:
        run_stack(variant(tmp_path, **overrides))
    message = str(err.value)
    assert f"{NS}:{key}: " in message and reason in message, message
    assert "Traceback" not in message
    assert not [u for u, reg in err.value.registrations.items() if reg.type.startswith("aws:")]


def test_cli_previews_bootstrap_and_refuses_bad_config(tmp_path):
    ok = run_tool("tools.preview", "org", "--project-dir", "bootstrap", "--quiet")
    assert ok.returncode == 0 and "stack org: 41 resources" in ok.stdout, ok.stderr
    bad = run_tool("tools.preview", "org", "--project-dir", "bootstrap", "--quiet",
                   "--stack-file", variant(tmp_path, stateBucket="Bad"))
    assert bad.returncode == 2 and f"{NS}:stateBucket" in bad.stderr and "Traceback" not in bad.stderr


# -- the offline checks --------------------------------------------------------------------------------
def test_packs_and_upstream_checks_pass(tmp_path):
    out = tmp_path / "preview.json"
    out.write_text(json.dumps(shipped().doc))
    packs = run_tool("tools.policy_check", "--preview-json", out)
    assert packs.returncode == 0 and "PASS: 0 mandatory, 0 advisory" in packs.stdout, packs.stdout[-2000:]
    upstream = run_tool("tools.upstream_check", "--preview-json", out)
    assert upstream.returncode == 0 and "FAIL" not in upstream.stdout, upstream.stdout[-2000:]


def test_readiness_flags_a_key_that_does_not_wait_for_its_principals(tmp_path):
    doc = json.loads(json.dumps(shipped().doc))
    for step in doc["steps"]:
        if step["urn"].endswith("kms/key:Key::state-key"):
            step["newState"]["dependencies"] = []
            step["newState"]["propertyDependencies"] = {}
    out = tmp_path / "broken.json"
    out.write_text(json.dumps(doc))
    proc = run_tool("tools.policy_check", "--preview-json", out, "--policy-pack", "policy/readiness")
    assert proc.returncode == 1 and "policy-principals-exist-first" in proc.stdout
    assert "Key state-key names arn:aws:iam::123456789012:role/global-platform-ci-preview" in proc.stdout


def test_export_and_checkov_with_the_bootstrap_waivers(tmp_path):
    from tools import checkov_gate as gate
    from tools.export_tfplan import Mapping, export

    plan, report = export(shipped().doc, Mapping())
    assert report["unverified"] == [] and report["unmapped_keys"] == []
    [oidc] = [r for r in plan["planned_values"]["root_module"]["resources"]
              if r["type"] == "aws_iam_openid_connect_provider"]
    assert oidc["values"]["client_id_list"] == ["sts.amazonaws.com"]
    if not gate.DEFAULT_CHECKOV.exists():
        pytest.skip("checkov venv not built (build/checkov-venv)")
    path = tmp_path / "tfplan.json"
    path.write_text(json.dumps(plan))
    verdict = gate.evaluate(gate.run_checkov(str(gate.DEFAULT_CHECKOV), path),
                            gate.load_waivers(BOOTSTRAP / "checkov-waivers.yaml"))
    assert not verdict.unwaived and not verdict.unused_waivers and len(verdict.waived) == 5


def test_bootstrap_is_self_contained_under_its_own_project_dir():
    """Pulumi runs bootstrap/ with bootstrap/ as the program directory: only gp_bootstrap (beside
    __main__.py) and installed packages are importable there, not the platform's components/ or tools/."""
    import ast

    for path in [BOOTSTRAP / "__main__.py", *sorted((BOOTSTRAP / "gp_bootstrap").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else [])
            assert not [n for n in names if n.split(".")[0] in ("components", "tools", "policy", "tests")], path
    project = yaml.safe_load((BOOTSTRAP / "Pulumi.yaml").read_text())
    assert project["name"] == NS and project["runtime"]["name"] == "python"
    assert (BOOTSTRAP / project["runtime"]["options"]["virtualenv"]).resolve() == (PROJECT_DIR / ".venv").resolve()

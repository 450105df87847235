"""Every policy document of the bootstrap, as pure functions of names and ARNs (tested as data).

Facts they rest on, each read 2026-11-26:
- GitHub OIDC (GitHub docs, "Configuring OpenID Connect in Amazon Web Services"): the provider URL
  https://token.actions.githubusercontent.com, audience sts.amazonaws.com, a trust policy for
  sts:AssumeRoleWithWebIdentity conditioned on token.actions.githubusercontent.com:aud and :sub;
  the sub of a job that names an environment is repo:ORG/REPO:environment:NAME, of a
  pull_request-triggered job without one repo:ORG/REPO:pull_request ("Example subject claims").
- Pulumi's awskms:// secrets provider (pulumi/pulumi pkg/secrets/cloud/manager.go): at
  `stack init` / `change-secrets-provider` it encrypts a fresh 32-byte data key with
  keeper.Encrypt (kms:Encrypt); every later operation decrypts it with keeper.Decrypt
  (kms:Decrypt). Nothing calls GenerateDataKey, so nobody is granted it on those keys.
- Pulumi's S3 ("diy") backend (pulumi/pulumi pkg/backend/diy/backend.go, lock.go): `up`,
  `refresh`, `destroy`, `import` take a lock object under .pulumi/locks/ and write the
  checkpoint, history and backups (s3:PutObject, s3:DeleteObject); `preview` runs with
  DryRun and takes no lock and writes nothing. No DynamoDB table: the lock is an object.
- SSE-KMS objects (S3 user guide, "Using server-side encryption with AWS KMS keys"): PutObject
  needs kms:GenerateDataKey and GetObject kms:Decrypt on the bucket's key, for the caller.
- Key administrators' actions: the KMS developer guide's default key policy, "Allows key
  administrators to administer the KMS key".
"""

from __future__ import annotations

import json
from typing import Mapping, Sequence

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_URL = f"https://{GITHUB_OIDC_HOST}"
STS_AUDIENCE = "sts.amazonaws.com"

KEY_ADMIN_ACTIONS = [
    "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*", "kms:Revoke*",
    "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
]
# The bucket's own settings: only the key administrators (who run this bootstrap) change them.
BUCKET_CONFIG_ACTIONS = [
    "s3:DeleteBucket", "s3:DeleteBucketPolicy", "s3:PutBucketPolicy", "s3:PutBucketVersioning",
    "s3:PutLifecycleConfiguration", "s3:PutEncryptionConfiguration", "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls", "s3:PutBucketLogging",
]
# S3 server access log delivery (S3 user guide, "Enabling Amazon S3 server access logging",
# "Permissions for log delivery"): the logging.s3.amazonaws.com principal puts objects, conditioned
# on aws:SourceArn (the source bucket) and aws:SourceAccount.
S3_LOG_DELIVERY_PRINCIPAL = "logging.s3.amazonaws.com"
STATE_WRITE_ACTIONS = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]
STATE_READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion"]

# What a platform `pulumi up` does in IAM (roles for EKS, nodes, IRSA/Pod Identity, FIS, RDS
# monitoring, Argo CD hub/spokes; their inline and attached policies; instance profiles; the
# clusters' OIDC providers). PowerUserAccess excludes all of IAM, so these come back here,
# limited to this account's roles, policies, instance profiles and OIDC providers.
PLATFORM_IAM_ACTIONS = [
    "iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy",
    "iam:TagRole", "iam:UntagRole", "iam:ListRoleTags", "iam:PassRole",
    "iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy", "iam:ListRolePolicies",
    "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:CreatePolicy", "iam:DeletePolicy", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:CreatePolicyVersion",
    "iam:DeletePolicyVersion", "iam:ListPolicyVersions", "iam:TagPolicy", "iam:UntagPolicy",
    "iam:CreateInstanceProfile", "iam:DeleteInstanceProfile", "iam:GetInstanceProfile",
    "iam:AddRoleToInstanceProfile", "iam:RemoveRoleFromInstanceProfile", "iam:TagInstanceProfile",
    "iam:UntagInstanceProfile",
    "iam:CreateOpenIDConnectProvider", "iam:DeleteOpenIDConnectProvider", "iam:GetOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
]
# No deploy role may change the CI identities themselves (widen a trust, attach a policy).
CI_ROLE_GUARD_ACTIONS = [
    "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy",
    "iam:DeleteRolePolicy", "iam:DeleteRole", "iam:UpdateRole", "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary", "iam:TagRole", "iam:UntagRole",
]
CI_PROVIDER_GUARD_ACTIONS = [
    "iam:DeleteOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint",
    "iam:TagOpenIDConnectProvider", "iam:UntagOpenIDConnectProvider",
]
# Data a pull request's code could read through ReadOnlyAccess and print; a preview needs none
# of it (it reads resource metadata, its own state, and the secrets the program reads back).
PREVIEW_DENIED_DATA_ACTIONS = [
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:Scan",
    "sqs:ReceiveMessage", "kinesis:GetRecords",
]


def document(statements: Sequence[dict]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def deploy_subject(repository: str, environment: str) -> str:
    return f"repo:{repository}:environment:{environment}"


def preview_subject(repository: str) -> str:
    return f"repo:{repository}:pull_request"


def github_trust(provider_arn: str, subject: str) -> str:
    """Only this repository's jobs with this exact subject, asking for STS."""
    return document([{
        "Sid": "GitHubActions", "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{GITHUB_OIDC_HOST}:aud": STS_AUDIENCE,
                                       f"{GITHUB_OIDC_HOST}:sub": subject}}}])


def state_prefix(environment: str) -> str:
    """Each environment's stacks live under their own prefix: `pulumi login s3://<bucket>/<env>`."""
    return f"{environment}/"


def backend_url(bucket: str, environment: str, region: str) -> str:
    return f"s3://{bucket}/{environment}?region={region}"


def secrets_provider(alias: str, region: str) -> str:
    return f"awskms://{alias}?region={region}"


def _admins(admins: Sequence[str]) -> dict:
    return {"Sid": "KeyAdministration", "Effect": "Allow", "Principal": {"AWS": sorted(admins)},
            "Action": KEY_ADMIN_ACTIONS, "Resource": "*"}


def state_key_policy(admins: Sequence[str], writers: Sequence[str], readers: Sequence[str], region: str,
                     dns_suffix: str = "amazonaws.com") -> str:
    """The bucket's SSE-KMS key: writers (deploy roles, admins) encrypt and decrypt state objects,
    readers (the preview role) decrypt them, both only through S3 of this region. No statement
    delegates to IAM policies, so PowerUserAccess's kms:* on "*" does not reach this key."""
    via_s3 = {"StringEquals": {"kms:ViaService": f"s3.{region}.{dns_suffix}"}}
    statements = [_admins(admins),
                  {"Sid": "StateObjectsReadWrite", "Effect": "Allow", "Principal": {"AWS": sorted(set(writers))},
                   "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*", "Condition": via_s3}]
    if readers:
        statements.append({"Sid": "StateObjectsRead", "Effect": "Allow", "Principal": {"AWS": sorted(set(readers))},
                           "Action": "kms:Decrypt", "Resource": "*", "Condition": via_s3})
    return document(statements)


BOOTSTRAP_PREFIX = "bootstrap"  # the bootstrap stack's own state: s3://<bucket>/bootstrap


def secrets_key_policy(admins: Sequence[str], encrypters: Sequence[str], decrypters: Sequence[str]) -> str:
    """One environment's awskms:// key: its deploy role (and the admins, who run `stack init` and
    `config set --secret`) encrypt and decrypt; the preview role, when it previews this
    environment, only decrypts."""
    statements = [_admins(admins),
                  {"Sid": "StackSecretsEncryptDecrypt", "Effect": "Allow",
                   "Principal": {"AWS": sorted(set(encrypters))}, "Action": ["kms:Encrypt", "kms:Decrypt"],
                   "Resource": "*"}]
    if decrypters:
        statements.append({"Sid": "StackSecretsDecrypt", "Effect": "Allow",
                           "Principal": {"AWS": sorted(set(decrypters))}, "Action": "kms:Decrypt",
                           "Resource": "*"})
    return document(statements)


def _sid(env: str) -> str:
    return "".join(part.capitalize() for part in env.split("-"))


def state_bucket_policy(bucket_arn: str, admins: Sequence[str], deployers: Mapping[str, str],
                        preview_role: str, previewed: Sequence[str]) -> str:
    """TLS only; each environment's prefix written by its deploy role (and the admins) only, read
    by those and the preview role when it previews that environment; the bucket's own settings
    changed by the admins only. Denies, so no identity policy (PowerUserAccess's s3:*) gets round them."""
    statements = [{
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
    for env, role in sorted(deployers.items()):
        objects = f"{bucket_arn}/{state_prefix(env)}*"
        writers = sorted({role, *admins})
        readers = sorted({*writers, *([preview_role] if env in previewed else [])})
        statements.append({"Sid": f"Deny{_sid(env)}StateWrites", "Effect": "Deny", "Principal": "*",
                           "Action": STATE_WRITE_ACTIONS, "Resource": objects,
                           "Condition": {"ArnNotEquals": {"aws:PrincipalArn": writers}}})
        statements.append({"Sid": f"Deny{_sid(env)}StateReads", "Effect": "Deny", "Principal": "*",
                           "Action": STATE_READ_ACTIONS, "Resource": objects,
                           "Condition": {"ArnNotEquals": {"aws:PrincipalArn": readers}}})
    # Anything else in the bucket (the bootstrap stack's own state under bootstrap/): admins only.
    statements.append({"Sid": "DenyOtherObjectsButAdmins", "Effect": "Deny", "Principal": "*",
                       "Action": [*STATE_WRITE_ACTIONS, *STATE_READ_ACTIONS],
                       "NotResource": [f"{bucket_arn}/{state_prefix(env)}*" for env in sorted(deployers)],
                       "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(admins)}}})
    statements.append({"Sid": "DenyBucketChangesButAdmins", "Effect": "Deny", "Principal": "*",
                       "Action": BUCKET_CONFIG_ACTIONS, "Resource": bucket_arn,
                       "Condition": {"ArnNotEquals": {"aws:PrincipalArn": sorted(admins)}}})
    return document(statements)


def _state_statements(bucket_arn: str, envs: Sequence[str], write: bool) -> list[dict]:
    objects = [f"{bucket_arn}/{state_prefix(e)}*" for e in envs]
    return [
        {"Sid": "StateList", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": bucket_arn},
        {"Sid": "StateObjects", "Effect": "Allow",
         "Action": ["s3:GetObject", *(["s3:PutObject", "s3:DeleteObject"] if write else [])],
         "Resource": objects},
    ]


def deploy_role_policy(*, bucket_arn: str, environment: str, state_key_arn: str, secrets_key_arn: str,
                       account: str, partition: str, role_prefix: str) -> str:
    iam = f"arn:{partition}:iam::{account}"
    return document([
        *_state_statements(bucket_arn, [environment], write=True),
        {"Sid": "StateKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
         "Resource": state_key_arn},
        {"Sid": "StackSecrets", "Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt"],
         "Resource": secrets_key_arn},
        {"Sid": "PlatformIam", "Effect": "Allow", "Action": PLATFORM_IAM_ACTIONS,
         "Resource": [f"{iam}:role/*", f"{iam}:policy/*", f"{iam}:instance-profile/*", f"{iam}:oidc-provider/*"]},
        {"Sid": "DenyCiRoleChanges", "Effect": "Deny", "Action": CI_ROLE_GUARD_ACTIONS,
         "Resource": f"{iam}:role/{role_prefix}-*"},
        {"Sid": "DenyCiProviderChanges", "Effect": "Deny", "Action": CI_PROVIDER_GUARD_ACTIONS,
         "Resource": f"{iam}:oidc-provider/{GITHUB_OIDC_HOST}"},
        {"Sid": "DenyAdministratorPolicies", "Effect": "Deny", "Action": "iam:AttachRolePolicy",
         "Resource": f"{iam}:role/*",
         "Condition": {"ArnEquals": {"iam:PolicyARN": [f"arn:{partition}:iam::aws:policy/AdministratorAccess",
                                                       f"arn:{partition}:iam::aws:policy/IAMFullAccess"]}}},
    ])


def preview_role_policy(*, bucket_arn: str, environments: Sequence[str], state_key_arn: str,
                        secrets_key_arns: Sequence[str], account: str, partition: str) -> str:
    objects = [f"{bucket_arn}/{state_prefix(e)}*" for e in environments]
    return document([
        *_state_statements(bucket_arn, environments, write=False),
        {"Sid": "StateKey", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": state_key_arn},
        {"Sid": "StackSecrets", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": sorted(secrets_key_arns)},
        # The program reads back a secret it manages (components/database.py: the Aurora global
        # primary's master credentials, aws.secretsmanager.get_secret_version), and a preview runs
        # that invoke; ReadOnlyAccess has no GetSecretValue. Limited to secrets Pulumi manages.
        {"Sid": "PlatformSecretsReadBack", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": f"arn:{partition}:secretsmanager:*:{account}:secret:*",
         "Condition": {"StringEquals": {"secretsmanager:ResourceTag/managed-by": "pulumi"}}},
        {"Sid": "DenyObjectsOutsideState", "Effect": "Deny", "Action": STATE_READ_ACTIONS,
         "NotResource": objects},
        {"Sid": "DenyDataReads", "Effect": "Deny", "Action": PREVIEW_DENIED_DATA_ACTIONS, "Resource": "*"},
    ])


def access_log_bucket_policy(log_bucket_arn: str, source_bucket: str, account: str, partition: str) -> str:
    """TLS only; S3's log delivery puts the state bucket's logs under `<state bucket>/`, for this
    account's bucket only."""
    return document([
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [log_bucket_arn, f"{log_bucket_arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "ServerAccessLogsFromStateBucket", "Effect": "Allow",
         "Principal": {"Service": S3_LOG_DELIVERY_PRINCIPAL}, "Action": "s3:PutObject",
         "Resource": f"{log_bucket_arn}/{source_bucket}/*",
         "Condition": {"ArnLike": {"aws:SourceArn": f"arn:{partition}:s3:::{source_bucket}"},
                       "StringEquals": {"aws:SourceAccount": account}}},
    ])

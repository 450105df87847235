"""The bootstrap's resources: GitHub OIDC provider and CI roles, the state bucket and the keys.

Order AWS imposes, explicit in the graph: IAM refuses a trust policy naming a federated principal
that does not exist, and KMS and S3 refuse key and bucket policies naming IAM principals that do
not exist ("MalformedPolicyDocument: invalid principal"), so the provider comes before the roles
and the roles before the keys and the bucket policy (each takes the ARN as an Output, which
records the dependency; the readiness rule `policy-principals-exist-first` checks it). S3 takes
one configuration call on a bucket at a time, so the bucket's settings form a chain, as in
components/storage.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from . import policies
from .config import STATE_KEY_ALIAS, BootstrapConfig

# S3 lifecycle: incomplete multipart uploads are aborted after this many days.
ABORT_MULTIPART_AFTER_DAYS = 7
ACCESS_LOG_NONCURRENT_DAYS = 30  # a log object is never overwritten; a stray version goes soon
KEY_DELETION_WINDOW_DAYS = 30  # KMS: 7-30 days; the longest, for keys that hold every stack's secrets


@dataclass(frozen=True, kw_only=True)
class Context:
    cfg: BootstrapConfig
    region: str
    account: pulumi.Output
    partition: pulumi.Output
    dns_suffix: pulumi.Output

    def tags(self, name: str) -> dict[str, str]:
        # The platform's standard tag keys (policy/rules/tags.py REQUIRED); environment: this stack.
        return {"environment": pulumi.get_stack(), "owner": self.cfg.owner, "managed-by": "pulumi",
                "region": self.region, "Name": f"bootstrap-{name}"}


class CiIdentity(pulumi.ComponentResource):
    """The GitHub OIDC provider, one deploy role per environment, the pull-request preview role."""

    def __init__(self, name: str, ctx: Context, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform-bootstrap:ci:CiIdentity", name, None, opts)
        cfg = ctx.cfg
        child = pulumi.ResourceOptions(parent=self)
        if cfg.existing_oidc_provider_arn:
            self.provider: Optional[aws.iam.OpenIdConnectProvider] = None
            self.provider_arn: pulumi.Output = pulumi.Output.from_input(cfg.existing_oidc_provider_arn)
        else:
            # No thumbprint_list: for GitHub IAM validates with its own trusted CAs and ignores any
            # thumbprint (pulumi_aws 7.51.1 iam.OpenIdConnectProvider docs; the Terraform schema
            # v6.58.0 has thumbprint_list Optional+Computed). url forces replacement (ForceNew).
            self.provider = aws.iam.OpenIdConnectProvider(
                "github-oidc", url=policies.GITHUB_OIDC_URL, client_id_lists=[policies.STS_AUDIENCE],
                tags=ctx.tags("github-oidc"), opts=child)
            self.provider_arn = self.provider.arn
        partition = ctx.partition

        self.deploy_roles: dict[str, aws.iam.Role] = {}
        for env in cfg.environments:
            role = aws.iam.Role(
                f"deploy-{env}", name=cfg.deploy_role_name(env),
                description=f"pulumi up of the {env} stacks from {cfg.github_repository} (GitHub environment {env})",
                assume_role_policy=self.provider_arn.apply(
                    lambda arn, e=env: policies.github_trust(arn, policies.deploy_subject(cfg.github_repository, e))),
                max_session_duration=cfg.deploy_max_session_hours * 3600,
                tags=ctx.tags(f"deploy-{env}"), opts=child)
            # Everything but IAM, Organizations and Account (AWS managed policy PowerUserAccess);
            # IAM comes back scoped in the inline policy (policies.deploy_role_policy).
            aws.iam.RolePolicyAttachment(
                f"deploy-{env}-power-user", role=role.name,
                policy_arn=partition.apply(lambda p: f"arn:{p}:iam::aws:policy/PowerUserAccess"), opts=child)
            self.deploy_roles[env] = role

        self.preview_role = aws.iam.Role(
            "preview", name=cfg.preview_role_name,
            description=f"pulumi preview of pull requests in {cfg.github_repository}: read-only",
            assume_role_policy=self.provider_arn.apply(
                lambda arn: policies.github_trust(arn, policies.preview_subject(cfg.github_repository))),
            max_session_duration=3600, tags=ctx.tags("preview"), opts=child)
        # Describe/Get/List of every service (AWS managed policy ReadOnlyAccess): what a preview's
        # invokes and a refresh read; the inline policy denies the data reads a PR could print.
        aws.iam.RolePolicyAttachment(
            "preview-read-only", role=self.preview_role.name,
            policy_arn=partition.apply(lambda p: f"arn:{p}:iam::aws:policy/ReadOnlyAccess"), opts=child)
        self.register_outputs({"oidcProviderArn": self.provider_arn,
                               "deployRoleArns": {e: r.arn for e, r in self.deploy_roles.items()},
                               "previewRoleArn": self.preview_role.arn})


class StateBackend(pulumi.ComponentResource):
    """The S3 bucket of Pulumi's state, its SSE-KMS key, and one awskms:// key per environment."""

    def __init__(self, name: str, ctx: Context, ci: CiIdentity, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform-bootstrap:state:StateBackend", name, None, opts)
        cfg = ctx.cfg
        keep = pulumi.ResourceOptions(parent=self, protect=True)
        admins = list(cfg.key_administrators)
        deploy_arns = {e: r.arn for e, r in ci.deploy_roles.items()}
        preview_arn = ci.preview_role.arn

        def key(name: str, description: str, policy: pulumi.Output, alias: str) -> aws.kms.Key:
            k = aws.kms.Key(name, description=description, enable_key_rotation=True,
                            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS, policy=policy,
                            tags=ctx.tags(name), opts=keep)
            aws.kms.Alias(name, name=alias, target_key_id=k.key_id, opts=pulumi.ResourceOptions(parent=self))
            return k

        self.state_key = key(
            "state-key", f"SSE-KMS of Pulumi's state bucket {cfg.state_bucket}",
            pulumi.Output.all(list(deploy_arns.values()), preview_arn, ctx.dns_suffix).apply(
                lambda v: policies.state_key_policy(admins, [*v[0], *admins], [v[1]], ctx.region, v[2])),
            STATE_KEY_ALIAS)
        self.secrets_keys: dict[str, aws.kms.Key] = {}
        for env in cfg.environments:
            previewed = env in cfg.previewed
            self.secrets_keys[env] = key(
                f"secrets-{env}", f"awskms:// secrets provider of the {env} stacks",
                pulumi.Output.all(deploy_arns[env], preview_arn).apply(
                    lambda v, p=previewed: policies.secrets_key_policy(admins, [v[0], *admins], [v[1]] if p else [])),
                cfg.secrets_alias(env))

        # The bootstrap stack's own secrets provider (its state lives under bootstrap/): admins only.
        self.bootstrap_key = key(
            "secrets-bootstrap", "awskms:// secrets provider of the bootstrap stack",
            pulumi.Output.from_input(policies.secrets_key_policy(admins, admins, [])),
            cfg.secrets_alias(policies.BOOTSTRAP_PREFIX))

        name_ = cfg.state_bucket
        self.bucket = aws.s3.Bucket("state", bucket=name_, force_destroy=False, tags=ctx.tags("state"), opts=keep)
        bucket_arn = ctx.partition.apply(lambda p: f"arn:{p}:s3:::{name_}")

        def after(previous: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=[previous])

        ownership = aws.s3.BucketOwnershipControls(
            "state-ownership", bucket=self.bucket.id, rule={"object_ownership": "BucketOwnerEnforced"},
            opts=pulumi.ResourceOptions(parent=self))
        public = aws.s3.BucketPublicAccessBlock(
            "state-public-access", bucket=self.bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=after(ownership))
        versioning = aws.s3.BucketVersioning(
            "state-versioning", bucket=self.bucket.id, versioning_configuration={"status": "Enabled"},
            opts=after(public))
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            "state-encryption", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms",
                                                                "kms_master_key_id": self.state_key.arn},
                    "bucket_key_enabled": True}],
            opts=after(versioning))
        # Noncurrent-version rules act on a versioned bucket: after versioning (chain above).
        lifecycle = aws.s3.BucketLifecycleConfiguration(
            "state-lifecycle", bucket=self.bucket.id, rules=[{
                "id": "expire-old-state-versions", "status": "Enabled", "filter": {},
                "noncurrent_version_expiration": {"noncurrent_days": cfg.noncurrent_version_expiry_days},
                "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_AFTER_DAYS},
                "expiration": {"expired_object_delete_marker": True}}],
            opts=after(encryption))
        self.policy = aws.s3.BucketPolicy(
            "state-policy", bucket=self.bucket.id,
            policy=pulumi.Output.all(bucket_arn, deploy_arns, preview_arn).apply(
                lambda v: policies.state_bucket_policy(v[0], admins, v[1], v[2], cfg.previewed)),
            opts=after(lifecycle))
        self.bucket_arn = bucket_arn
        log_ready = self._access_logs(ctx)
        # Who read or wrote which state object: server access logs to the log bucket, once both
        # policies are in place (its policy admits this delivery).
        aws.s3.BucketLogging(
            "state-logging", bucket=self.bucket.id, target_bucket=self.access_log_bucket.id,
            target_prefix=f"{name_}/",
            target_object_key_format={"partitioned_prefix": {"partition_date_source": "EventTime"}},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.policy, log_ready]))
        self.register_outputs({"bucket": name_, "stateKeyArn": self.state_key.arn,
                               "secretsKeyArns": {e: k.arn for e, k in self.secrets_keys.items()}})


    def _access_logs(self, ctx: Context) -> aws.s3.BucketPolicy:
        """The state bucket's server access log bucket, as the platform's (components/storage.py):
        SSE-S3, the only default encryption S3 delivers server access logs to; returns its policy,
        the last step, which the logging waits for."""
        cfg = ctx.cfg
        name_ = cfg.access_log_bucket
        bucket = self.access_log_bucket = aws.s3.Bucket(
            "access-logs", bucket=name_, force_destroy=False, tags=ctx.tags("access-logs"),
            opts=pulumi.ResourceOptions(parent=self, protect=True))

        def after(previous: pulumi.Resource) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, depends_on=[previous])

        ownership = aws.s3.BucketOwnershipControls(
            "access-logs-ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"},
            opts=pulumi.ResourceOptions(parent=self))
        public = aws.s3.BucketPublicAccessBlock(
            "access-logs-public-access", bucket=bucket.id, block_public_acls=True, block_public_policy=True,
            ignore_public_acls=True, restrict_public_buckets=True, opts=after(ownership))
        versioning = aws.s3.BucketVersioning(
            "access-logs-versioning", bucket=bucket.id, versioning_configuration={"status": "Enabled"},
            opts=after(public))
        encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            "access-logs-encryption", bucket=bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=after(versioning))
        lifecycle = aws.s3.BucketLifecycleConfiguration(
            "access-logs-lifecycle", bucket=bucket.id, rules=[{
                "id": "expire-access-logs", "status": "Enabled", "filter": {},
                "expiration": {"days": cfg.access_log_retention_days},
                "noncurrent_version_expiration": {"noncurrent_days": ACCESS_LOG_NONCURRENT_DAYS},
                "abort_incomplete_multipart_upload": {"days_after_initiation": ABORT_MULTIPART_AFTER_DAYS}}],
            opts=after(encryption))
        return aws.s3.BucketPolicy(
            "access-logs-policy", bucket=bucket.id,
            policy=pulumi.Output.all(ctx.partition, ctx.account).apply(
                lambda v: policies.access_log_bucket_policy(f"arn:{v[0]}:s3:::{name_}", cfg.state_bucket, v[1], v[0])),
            opts=after(lifecycle))


def grant(ctx: Context, ci: CiIdentity, state: StateBackend) -> None:
    """The CI roles' inline policies, once the bucket and keys they name exist."""
    cfg = ctx.cfg
    child = pulumi.ResourceOptions(parent=ci)
    for env, role in ci.deploy_roles.items():
        aws.iam.RolePolicy(
            f"deploy-{env}", role=role.name, name="state-secrets-and-platform-iam",
            policy=pulumi.Output.all(state.bucket_arn, state.state_key.arn, state.secrets_keys[env].arn,
                                     ctx.account, ctx.partition).apply(
                lambda v, e=env: policies.deploy_role_policy(
                    bucket_arn=v[0], environment=e, state_key_arn=v[1], secrets_key_arn=v[2],
                    account=v[3], partition=v[4], role_prefix=cfg.role_prefix)),
            opts=child)
    previewed_keys = [state.secrets_keys[e].arn for e in cfg.previewed]
    aws.iam.RolePolicy(
        "preview", role=ci.preview_role.name, name="state-read-and-data-denies",
        policy=pulumi.Output.all(state.bucket_arn, state.state_key.arn, previewed_keys, ctx.account,
                                 ctx.partition).apply(
            lambda v: policies.preview_role_policy(
                bucket_arn=v[0], environments=cfg.previewed, state_key_arn=v[1], secrets_key_arns=v[2],
                account=v[3], partition=v[4])),
        opts=child)


def build(cfg: BootstrapConfig) -> None:
    region = pulumi.Config("aws").require("region")
    partition = aws.get_partition_output()
    ctx = Context(cfg=cfg, region=region, account=aws.get_caller_identity_output().account_id,
                  partition=partition.partition, dns_suffix=partition.dns_suffix)
    ci = CiIdentity("ci", ctx)
    state = StateBackend("state", ctx, ci)
    grant(ctx, ci, state)

    bucket = cfg.state_bucket
    # What the README's first-deploy guide and the GitHub settings read (`pulumi stack output`).
    pulumi.export("stateBucket", bucket)
    pulumi.export("stateKeyArn", state.state_key.arn)
    pulumi.export("backendUrls", {e: policies.backend_url(bucket, e, region) for e in cfg.environments})
    pulumi.export("secretsProviders", {e: policies.secrets_provider(cfg.secrets_alias(e), region)
                                       for e in cfg.environments})
    # Where this stack's own state moves after the first, local `pulumi up` (README, first deploy).
    pulumi.export("bootstrapBackendUrl", policies.backend_url(bucket, policies.BOOTSTRAP_PREFIX, region))
    pulumi.export("bootstrapSecretsProvider",
                  policies.secrets_provider(cfg.secrets_alias(policies.BOOTSTRAP_PREFIX), region))
    pulumi.export("oidcProviderArn", ci.provider_arn)
    pulumi.export("deployRoleArns", {e: r.arn for e, r in ci.deploy_roles.items()})
    pulumi.export("previewRoleArn", ci.preview_role.arn)
    # The variables the workflows read: repository level, and per GitHub environment.
    pulumi.export("githubVariables", {
        "repository": {"AWS_PREVIEW_ROLE_ARN": ci.preview_role.arn, "PULUMI_STATE_BUCKET": bucket,
                       "PULUMI_STATE_REGION": region},
        "environments": {e: {"AWS_DEPLOY_ROLE_ARN": r.arn} for e, r in ci.deploy_roles.items()},
    })

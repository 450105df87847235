"""The bootstrap stack's config: every key under ``global-platform-bootstrap:`` in
Pulumi.<stack>.yaml, validated before any resource is registered. Each problem is reported
with the key the user must edit; all of them together, no traceback."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Mapping, Optional

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic.alias_generators import to_camel

NAMESPACE = "global-platform-bootstrap"

# S3 user guide, "General purpose bucket naming rules" (read 2026-11-26): 3-63 characters of
# lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit; reserved
# prefixes xn--, sthree-, amzn-s3-demo- and suffixes -s3alias, --ol-s3, .mrap, --x-s3, --table-s3.
# Dots are refused here on purpose: a dotted name breaks TLS on virtual-hosted-style URLs.
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
BUCKET_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
# GitHub: owner (user/org) names are alphanumerics and single hyphens, at most 39 characters;
# repository names letters, digits, '.', '-', '_' (at most 100).
REPOSITORY_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$")
# Environments double as the platform's stack names (Pulumi.<env>.yaml) and GitHub environment names.
ENVIRONMENT_RE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
# IAM role names: [\w+=,.@-], at most 64 characters (IAM API reference, CreateRole RoleName).
ROLE_NAME_RE = re.compile(r"^[\w+=,.@-]{1,64}$")
ROLE_NAME_MAX = 64
# A principal named in a key or bucket policy: an IAM role (any path, e.g. IAM Identity Center's
# aws-reserved/sso.amazonaws.com/) or user of one account, in any partition.
PRINCIPAL_ARN_RE = re.compile(r"^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:role|user)/[\w+=,.@/-]{1,512}$")
OIDC_PROVIDER_ARN_RE = re.compile(
    r"^arn:aws(?:-[a-z]+)*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com$")
# IAM MaxSessionDuration: 3600 to 43200 seconds (IAM API reference, CreateRole).
SESSION_HOURS = (1, 12)
STATE_KEY_ALIAS = "alias/global-platform/pulumi-state"
ACCESS_LOG_SUFFIX = "-access-logs"


def _principal_arn(arn: str) -> str:
    if not PRINCIPAL_ARN_RE.match(arn):
        raise ValueError(f"'{arn}' is not an IAM role or user ARN (arn:aws:iam::<account>:role/<name>)")
    return arn


PrincipalArn = Annotated[str, AfterValidator(_principal_arn)]


class BootstrapConfigError(Exception):
    """All problems of one stack's config, one line each, naming the key."""

    def __init__(self, problems: list[tuple[str, str]], source: str):
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        lines = [f"invalid {source}: {len(problems)} {noun}"]
        lines += [f"  - {NAMESPACE}:{key}: {reason}" if key else f"  - {reason}" for key, reason in problems]
        super().__init__("\n".join(lines))


class BootstrapConfig(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    owner: str = Field(min_length=1, description="Team that owns the bootstrap resources (the `owner` tag).")
    github_repository: str = Field(
        description="The repository whose workflows may assume the CI roles, as ORG/REPO "
                    "(the `sub` claim names it: repo:ORG/REPO:...).")
    environments: tuple[str, ...] = Field(
        default=("dev", "prod"), min_length=1,
        description="GitHub environments that deploy (one deploy role and one secrets key each); "
                    "each is also the platform stack of that name.")
    preview_environments: Optional[tuple[str, ...]] = Field(
        default=None,
        description="Environments whose stacks pull requests preview (the preview role may read their "
                    "state and decrypt their secrets); default: all `environments`.")
    state_bucket: str = Field(description="Name of the S3 bucket holding Pulumi's state (globally unique).")
    noncurrent_version_expiry_days: int = Field(
        default=90, ge=1, le=3650,
        description="Days a superseded state object version is kept before S3 expires it.")
    key_administrators: tuple[PrincipalArn, ...] = Field(
        min_length=1,
        description="IAM role or user ARNs that administer the KMS keys and the state bucket's policy; "
                    "must include whoever runs this bootstrap (KMS refuses a key policy that locks the "
                    "caller out).")
    role_prefix: str = Field(
        default="global-platform-ci",
        description="Prefix of the CI role names: <prefix>-deploy-<environment>, <prefix>-preview.")
    existing_oidc_provider_arn: Optional[str] = Field(
        default=None,
        description="ARN of the account's GitHub OIDC provider when it already exists (IAM allows one "
                    "provider per URL per account); omitted: this stack creates it.")
    access_log_retention_days: int = Field(
        default=365, ge=1, le=3650,
        description="Days the state bucket's S3 server access logs are kept (who read or wrote which state).")
    deploy_max_session_hours: int = Field(
        default=2, ge=SESSION_HOURS[0], le=SESSION_HOURS[1],
        description="Longest session of a deploy role (IAM MaxSessionDuration, 1-12 hours); the "
                    "workflow's role-duration-seconds may ask for up to this.")

    @field_validator("github_repository")
    @classmethod
    def _repository(cls, v: str) -> str:
        if not REPOSITORY_RE.match(v):
            raise ValueError(f"'{v}' is not ORG/REPO (GitHub owner and repository names)")
        return v

    @field_validator("environments", "preview_environments")
    @classmethod
    def _environments(cls, v: Optional[tuple[str, ...]]) -> Optional[tuple[str, ...]]:
        if v is None:
            return v
        for name in v:
            if not ENVIRONMENT_RE.match(name):
                raise ValueError(f"'{name}' is not a stack name (lowercase letters, digits, '-', 1-20 characters)")
        dupes = sorted({n for n in v if v.count(n) > 1})
        if dupes:
            raise ValueError(f"listed more than once: {', '.join(dupes)}")
        return v

    @field_validator("state_bucket")
    @classmethod
    def _bucket(cls, v: str) -> str:
        if not BUCKET_RE.match(v):
            raise ValueError(f"'{v}' is not an S3 bucket name (3-63 lowercase letters, digits and '-', "
                             "beginning and ending with a letter or digit; no dots)")
        if v.startswith(BUCKET_RESERVED_PREFIXES) or v.endswith(BUCKET_RESERVED_SUFFIXES):
            raise ValueError(f"'{v}' uses a prefix or suffix S3 reserves")
        return v

    @field_validator("existing_oidc_provider_arn")
    @classmethod
    def _provider(cls, v: Optional[str]) -> Optional[str]:
        if v is not None and not OIDC_PROVIDER_ARN_RE.match(v):
            raise ValueError(f"'{v}' is not the ARN of a token.actions.githubusercontent.com OIDC provider")
        return v

    @field_validator("role_prefix")
    @classmethod
    def _prefix(cls, v: str) -> str:
        if not ROLE_NAME_RE.match(v):
            raise ValueError(f"'{v}' has characters an IAM role name cannot hold (letters, digits, +=,.@_-)")
        return v

    @model_validator(mode="after")
    def _cross(self) -> "BootstrapConfig":
        if len(self.access_log_bucket) > 63:
            raise ValueError(f"stateBucket: at most {63 - len(ACCESS_LOG_SUFFIX)} characters, so that its "
                             f"access log bucket '{self.access_log_bucket}' fits S3's 63")
        if "bootstrap" in self.environments:
            raise ValueError("environments: 'bootstrap' is the prefix of this stack's own state; choose another name")
        unknown = sorted(set(self.preview_environments or ()) - set(self.environments))
        if unknown:
            raise ValueError(f"previewEnvironments: not in environments: {', '.join(unknown)}")
        longest = max((self.deploy_role_name(e) for e in self.environments), key=len)
        if len(longest) > ROLE_NAME_MAX:
            raise ValueError(f"rolePrefix: the role name '{longest}' is longer than IAM's {ROLE_NAME_MAX} characters")
        return self

    # -- derived names -------------------------------------------------------------------
    def deploy_role_name(self, env: str) -> str:
        return f"{self.role_prefix}-deploy-{env}"

    @property
    def access_log_bucket(self) -> str:
        return self.state_bucket + ACCESS_LOG_SUFFIX

    @property
    def preview_role_name(self) -> str:
        return f"{self.role_prefix}-preview"

    @property
    def previewed(self) -> tuple[str, ...]:
        return self.preview_environments if self.preview_environments is not None else self.environments

    @staticmethod
    def secrets_alias(env: str) -> str:
        return f"alias/global-platform/pulumi-secrets/{env}"


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + str(part)
    return out


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def parse(engine_config: Mapping[str, Any], source: str) -> BootstrapConfig:
    """The project's keys out of the engine's flat "ns:key" -> string map, validated."""
    prefix = NAMESPACE + ":"
    raw = {k[len(prefix):]: _decode(v) for k, v in engine_config.items() if k.startswith(prefix)}
    try:
        return BootstrapConfig.model_validate(raw)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            key, msg = _loc(e["loc"]), e["msg"].removeprefix("Value error, ")
            if e["type"] == "extra_forbidden":
                msg = "unknown key (typo?)"
            elif e["type"] == "missing":
                msg = "required key is missing"
            if not key and ": " in msg:  # cross-key rules name their key first
                key, msg = msg.split(": ", 1)
            problems.append((key, msg))
        raise BootstrapConfigError(problems, source) from None


def load_from_pulumi() -> BootstrapConfig:
    import pulumi
    from pulumi.runtime import config as runtime_config

    merged = dict(runtime_config.get_config_env())
    merged.update(runtime_config.CONFIG.get())
    stack = pulumi.get_stack()
    return parse(merged, f"config of stack '{stack}' (Pulumi.{stack}.yaml)")

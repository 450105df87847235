"""StackConfig: every section composed, the values derived from more than one key, and the rules
that span sections chained in one fixed order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Literal, Mapping, Optional

from pydantic import Field, ValidationError, field_validator

from ..topology import derived_asn
from . import accounts, chaos, cluster, connectivity, data, gitops, network, proxy, regions, scaling, slos
from . import lambda_concurrency
from . import mesh
from . import observability
from . import imports as imports_section
from .accounts import AccountSpec, account_names_are_slugs
from .base import _Model, doc
from .chaos import ChaosSpec
from .cluster import ClusterSpec
from .connectivity import ConnectivitySpec
from .errors import ConfigError, ConfigIssue, issues_from_validation
from .gitops import GitOpsSpec
from .lambda_concurrency import LambdaSpec
from .mesh import MeshSpec
from .network import AIRGAP_DATA_ENDPOINTS, AIRGAP_ENDPOINTS, AIRGAP_OBSERVABILITY_ENDPOINTS, NetworkSpec
from .data import DataSpec
from .observability import ObservabilitySpec
from .proxy import ProxySpec
from .regions import RegionSpec, one_hub_unique_names
from .scaling import ScalingSpec
from .slos import SloSpec

if TYPE_CHECKING:
    from ..ipam import AddressPlan


class StackConfig(_Model):
    environment: Literal["dev", "stage", "prod"] = Field(
        description="tags; prod protects stateful resources, requires pinned VPC blocks, defaults NAT to per AZ")
    owner: str = Field(min_length=1, max_length=128, pattern=r"^[\w .:/=+\-@]+$",
                       description="the team that owns the stack: the `owner` tag on every resource")
    regions: list[RegionSpec] = Field(
        min_length=1, description="one VPC, transit gateway and (with `cluster`) EKS cluster per entry",
        json_schema_extra=doc(type="list of region objects"))
    network: NetworkSpec = Field(description="address plan and regional network")
    accounts: dict[str, AccountSpec] = Field(
        default_factory=dict, description="AWS accounts reached by assuming a role; once set, every region names "
                                          "its `account` and resources carry an `account` tag",
        json_schema_extra=doc(type="map name -> account object", default="none (the credentials' account)"))
    connectivity: ConnectivitySpec = Field(
        default_factory=ConnectivitySpec, description="transit gateways, peering, on-prem links, hybrid DNS",
        json_schema_extra=doc(default="TGW per region, `hubSpoke`, no on-prem"))
    proxy: Optional[ProxySpec] = Field(
        None, description="required with `egress: proxy`: the only way out for nodes and ArgoCD")
    cluster: Optional[ClusterSpec] = Field(None, description="one EKS cluster per region",
                                           json_schema_extra=doc(default="none (no EKS)"))
    gitops: Optional[GitOpsSpec] = Field(None, description="ArgoCD on the hub cluster, deploying to every cluster")
    slos: list[SloSpec] = Field(
        default_factory=list,
        description="SLO alarms per region; the same objects stop chaos experiments and judge scaling")
    chaos: Optional[ChaosSpec] = Field(None, description="FIS experiment templates per scenario per region, game days")
    scaling: Optional[ScalingSpec] = Field(None, description="node autoscaler, KEDA, time-based scaling, WAF")
    data: DataSpec = Field(default_factory=DataSpec,
                           description="the data tier behind the clusters: Aurora MySQL, cache, S3 (+ CloudFront), SNS -> SQS",
                           json_schema_extra=doc(default="none"))
    observability: Optional[ObservabilitySpec] = Field(
        default_factory=ObservabilitySpec,
        description="a dashboard per region, optionally managed Prometheus and Grafana; `null` turns it off",
        json_schema_extra=doc(default="dashboards on"))
    mesh: Optional[MeshSpec] = Field(
        None, description="Istio (sidecar mode) in every cluster; `dbGuard` shields the data tier with connection pools")
    lambda_: Optional[LambdaSpec] = Field(
        None, alias="lambda", description="reserved and provisioned concurrency of existing Lambda functions, per region")
    imports: dict[str, imports_section.ImportEntry] = Field(
        default_factory=dict,
        description="adopt existing resources: logical resource name -> import id (or `{id, type, existing}`), "
                    "applied with Pulumi's `import` option; `python -m tools.adopt` writes this section",
        json_schema_extra=doc(type="map of name to id or import object", default="none"))
    argocd_sso_client_secret: Optional[str] = Field(
        None, description="the OIDC client secret; required with `gitops.argocd.sso`. Set it with "
                          "`pulumi config set --secret global-platform:argocdSsoClientSecret <value>`",
        json_schema_extra=doc(type="secret string"))

    @field_validator("accounts")
    @classmethod
    def _account_names(cls, accounts: dict[str, AccountSpec]) -> dict[str, AccountSpec]:
        return account_names_are_slugs(accounts)

    @field_validator("data", mode="before")
    @classmethod
    def _no_data_tier(cls, value: Any) -> Any:
        return {} if value is None else value  # `data: null` is an empty data tier, as leaving it out is

    @field_validator("regions")
    @classmethod
    def _one_hub_unique_names(cls, regions: list[RegionSpec]) -> list[RegionSpec]:
        return one_hub_unique_names(regions)

    # Effective values: defaults that depend on other keys are resolved here, in one place.
    @property
    def nat_mode(self) -> str:
        if self.network.egress == "proxy":
            return "none"
        if self.network.nat_gateways:
            return self.network.nat_gateways
        return "perAz" if self.environment == "prod" else "single"

    @property
    def hub(self) -> RegionSpec:
        return next(r for r in self.regions if r.role == "hub")

    @property
    def region_names(self) -> list[str]:
        return sorted(r.name for r in self.regions)

    @property
    def interface_endpoints(self) -> tuple[str, ...]:
        """Listed endpoints, plus what an air-gapped region cannot work without."""
        wanted = set(self.network.endpoints)
        if self.network.egress == "proxy":
            wanted |= set(AIRGAP_ENDPOINTS)
            for section, services in AIRGAP_DATA_ENDPOINTS.items():
                if getattr(self.data, section) is not None:
                    wanted |= set(services)
            for section, services in AIRGAP_OBSERVABILITY_ENDPOINTS.items():
                if self.observability is not None and getattr(self.observability, section) is not None:
                    wanted |= set(services)
        return tuple(sorted(wanted))

    def tgw_asns(self) -> dict[str, int]:
        tgw = self.connectivity.transit_gateway
        return {r: tgw.amazon_side_asn.get(r, derived_asn(r, tgw.base_asn)) for r in self.region_names}


TOP_LEVEL_KEYS = tuple(
    (field.alias or name) for name, field in StackConfig.model_fields.items()
)

# Each section's cross-section rules, in the order their issues have always been reported. The
# network's two rules sit apart: its NAT/egress rule has always come first, its database-tier rule last.
SECTION_RULES: tuple[Callable[[StackConfig], list[ConfigIssue]], ...] = (
    network.egress_issues,
    regions.issues,
    accounts.issues,
    connectivity.issues,
    proxy.issues,
    cluster.issues,
    gitops.issues,
    slos.issues,
    chaos.issues,
    scaling.issues,
    data.issues,
    observability.issues,
    lambda_concurrency.issues,
    mesh.issues,
    imports_section.issues,
    network.database_tier_issues,
)

# Rules that need the address plan (components.stack runs them once the plan exists).
PLAN_RULES: tuple[Callable[[StackConfig, AddressPlan], list[ConfigIssue]], ...] = (
    connectivity.plan_issues,
)


def semantic_issues(cfg: StackConfig) -> list[ConfigIssue]:
    """Checks that span sections (pydantic field validators see one field at a time): every
    section's rules, chained in SECTION_RULES order."""
    issues: list[ConfigIssue] = []
    for rule in SECTION_RULES:
        issues += rule(cfg)
    return issues


def plan_issues(cfg: StackConfig, plan: AddressPlan) -> list[ConfigIssue]:
    """Cross-section rules that need the address plan, chained in PLAN_RULES order."""
    issues: list[ConfigIssue] = []
    for rule in PLAN_RULES:
        issues += rule(cfg, plan)
    return issues


def parse_stack_config(raw: Mapping[str, Any], source: str = "stack config") -> StackConfig:
    """Validate a plain dict (keys without the namespace) into a StackConfig, or raise ConfigError.
    Types and per-field rules only; cross-section rules are ``semantic_issues`` (components.stack
    reports them together with the address plan's, so one run names every problem)."""
    try:
        return StackConfig.model_validate(dict(raw))
    except ValidationError as err:
        raise ConfigError(issues_from_validation(err), source) from None

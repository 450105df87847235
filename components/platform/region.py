"""Everything that lives in one region, on that region's provider: the capabilities in the
order they depend on each other. Each step builds complete args from the wiring so far, creates
the capability, and adds it to the wiring for the next ones."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from ..cache import CacheCluster, cache_args
from ..chaos import ChaosExperiments, chaos_args
from ..cluster import RegionalCluster, cluster_args
from ..connectivity import RegionalTransit, transit_args
from ..dashboards import RegionalDashboard, dashboard_args
from ..database import AuroraDatabase, AuroraGlobalHandle, database_args
from ..gitops import ArgoCdIdentity, SpokeAccessArgs, SpokeAccessRole, identity_args
from ..lambda_concurrency import LambdaConcurrency, lambda_concurrency_args
from ..logs_key import logs_kms_key
from ..mesh import RegionalMesh, mesh_args
from ..messaging import MessagingTier, messaging_args
from ..naming import RegionContext
from ..observability import RegionalObservability, observability_args
from ..network import RegionalNetwork, network_args
from ..scaling import RegionalScaling, scaling_args
from ..slo import SloAlarms, slo_alarms_args
from ..stack import StackSpec
from ..storage import StorageTier, storage_args
from ..topology import Destination
from ..wiring import RegionWiring
from .providers import account_of, regional_provider


@dataclass(frozen=True, kw_only=True)
class RegionArgs:
    spec: StackSpec
    ctx: RegionContext
    destinations: tuple[Destination, ...]  # every VPC and on-prem range, for routing
    argocd_access_role_arn: Optional[pulumi.Input[str]] = None  # spokes: the hub's Argo CD access role
    aurora_global: Optional[AuroraGlobalHandle] = None  # spokes: the hub's Aurora global cluster to join
    # Spokes of an account with no spoke-access role yet: the hub's Argo CD role, which the role this
    # region then creates in its account trusts (argocd_access_role_arn is then None).
    argocd_hub_role_arn: Optional[pulumi.Input[str]] = None


class RegionalPlatform(pulumi.ComponentResource):
    def __init__(self, name: str, args: RegionArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:platform:Region", name, None, opts)
        spec, ctx = args.spec, args.ctx
        self.ctx = ctx
        self.provider = regional_provider(ctx, self)
        self.account = account_of(self.provider)
        in_region = pulumi.ResourceOptions(parent=self, providers={"aws": self.provider})
        self.logs_key = logs_kms_key(ctx, self.account, spec.config.environment == "prod", in_region)
        w = RegionWiring(ctx=ctx, account=self.account, provider=self.provider, logs_key=self.logs_key, parent=self,
                         argocd_access_role_arn=args.argocd_access_role_arn, aurora_global=args.aurora_global)

        self.network = RegionalNetwork(ctx.name("network"), network_args(spec, w), w.in_region)
        w = w.with_(network=self.network)
        self.transit = RegionalTransit(ctx.name("transit"), transit_args(spec, w, args.destinations), w.in_region)
        w = w.with_(transit=self.transit)
        identity = identity_args(spec, w)
        self.argocd_identity = ArgoCdIdentity(ctx.name("argocd-identity"), identity, w.in_region) if identity else None
        # A spoke in an account other than the hub's: Argo CD's role there (once per account).
        self.argocd_spoke_access = None
        self.argocd_spoke_access_owner = args.argocd_hub_role_arn is not None
        if args.argocd_hub_role_arn is not None:
            self.argocd_spoke_access = SpokeAccessRole(ctx.name("argocd-spoke-identity"), SpokeAccessArgs(
                ctx=ctx, hub_role_arn=args.argocd_hub_role_arn), w.in_region)
            w = w.with_(argocd_access_role_arn=self.argocd_spoke_access.role.arn)
        self.argocd_access_role_arn = w.argocd_access_role_arn  # the role Argo CD uses on this spoke
        cluster = cluster_args(spec, w)
        # Clusters come up after the TGW, so the hub reaches their private API as soon as they exist.
        self.cluster = RegionalCluster(ctx.name("cluster"), cluster, pulumi.ResourceOptions.merge(
            w.in_region, pulumi.ResourceOptions(depends_on=[self.transit]))) if cluster else None
        w = w.with_(cluster=self.cluster)
        # The data tier admits the cluster's nodes; SLOs and chaos experiments may name its parts.
        database = database_args(spec, w)
        self.database = AuroraDatabase(ctx.name("database"), database, w.in_region) if database else None
        cache = cache_args(spec, w)
        self.cache = CacheCluster(ctx.name("cache"), cache, w.in_region) if cache else None
        storage = storage_args(spec, w)
        self.storage = StorageTier(ctx.name("storage"), storage, w.in_region) if storage else None
        messaging = messaging_args(spec, w)
        self.messaging = MessagingTier(ctx.name("messaging"), messaging, w.in_region) if messaging else None
        w = w.with_(database=self.database, cache=self.cache, storage=self.storage, messaging=self.messaging)
        # The mesh guards the data tier's endpoints, so it comes after them.
        mesh = mesh_args(spec, w)
        self.mesh = RegionalMesh(ctx.name("mesh"), mesh, w.in_region) if mesh else None
        w = w.with_(mesh=self.mesh)
        slo = slo_alarms_args(spec, w)
        self.slo = SloAlarms(ctx.name("slo"), slo, w.in_region) if slo else None
        w = w.with_(slo=self.slo)
        chaos = chaos_args(spec, w)
        self.chaos = ChaosExperiments(ctx.name("chaos"), chaos, w.in_region) if chaos else None
        # Prometheus before scaling: KEDA's dependent triggers query the workspace.
        observability = observability_args(spec, w)
        self.observability = RegionalObservability(ctx.name("observability"), observability, w.in_region) \
            if observability else None
        w = w.with_(observability=self.observability)
        scaling = scaling_args(spec, w)
        self.scaling = RegionalScaling(ctx.name("scaling"), scaling, w.in_region) if scaling else None
        # Existing functions' concurrency: needs nothing the region builds; the dashboard may show it.
        concurrency = lambda_concurrency_args(spec, w)
        self.lambda_concurrency = LambdaConcurrency(ctx.name("lambda"), concurrency, w.in_region) if concurrency else None
        w = w.with_(lambda_concurrency=self.lambda_concurrency)
        dashboard = dashboard_args(spec, w, self.scaling.web_acl if self.scaling else None)
        self.dashboard = RegionalDashboard(ctx.name("dashboard"), dashboard, w.in_region) if dashboard else None
        self.wiring = w
        self.register_outputs({"vpcId": self.network.vpc.id, "cidr": str(spec.plan[ctx.region].cidr)})

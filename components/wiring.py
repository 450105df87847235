"""What a region's capabilities are wired to: one typed object, grown in the order the region
builds them (components/platform/region.py). A capability's args builder reads what it needs
from here and returns complete args: no field is a placeholder filled in later."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Optional

import pulumi
import pulumi_aws as aws

from .naming import RegionContext

if TYPE_CHECKING:  # components import this module; the types are for readers and checkers
    from .cache import CacheCluster
    from .cluster import RegionalCluster
    from .database import AuroraDatabase, AuroraGlobalHandle
    from .lambda_concurrency import LambdaConcurrency
    from .mesh import RegionalMesh
    from .messaging import MessagingTier
    from .storage import StorageTier
    from .connectivity import RegionalTransit
    from .network import RegionalNetwork
    from .slo import SloAlarms
    from .observability import RegionalObservability


@dataclass(frozen=True, kw_only=True)
class RegionWiring:
    ctx: RegionContext
    account: pulumi.Output[str]  # the account the region's provider deploys into
    provider: aws.Provider
    logs_key: aws.kms.Key
    parent: pulumi.Resource  # the region's component: every capability is its child
    network: Optional["RegionalNetwork"] = None
    transit: Optional["RegionalTransit"] = None
    cluster: Optional["RegionalCluster"] = None
    database: Optional["AuroraDatabase"] = None
    cache: Optional["CacheCluster"] = None
    storage: Optional["StorageTier"] = None
    messaging: Optional["MessagingTier"] = None
    slo: Optional["SloAlarms"] = None
    observability: Optional["RegionalObservability"] = None  # the region's Prometheus workspace (KEDA queries it)
    lambda_concurrency: Optional["LambdaConcurrency"] = None  # scalable targets of existing functions' aliases
    mesh: Optional["RegionalMesh"] = None  # Istio on the region's cluster (its istiod release)
    argocd_access_role_arn: Optional[pulumi.Input[str]] = None  # the hub's spoke-access role (spokes only)
    aurora_global: Optional["AuroraGlobalHandle"] = None  # the hub's Aurora global cluster (spokes only)

    @property
    def in_region(self) -> pulumi.ResourceOptions:
        """Options of a capability's component: a child of the region, on the region's provider."""
        return pulumi.ResourceOptions(parent=self.parent, providers={"aws": self.provider})

    def with_(self, **done: Any) -> "RegionWiring":
        return dataclasses.replace(self, **done)

"""Typed, validated stack config: the interface platform teams edit.

Every key lives under the project namespace (``global-platform:<key>``) in
``Pulumi.<stack>.yaml``. Validation finds every problem before any resource is
registered and reports each one with the YAML key path the user must edit.

One module per YAML section (its models and the cross-section rules that protect it), the
shared base, the error model, the engine reader, and ``stack`` composing them. Every name
is re-exported here: import from ``components.config``.
"""

from .accounts import AccountSpec
from .base import LOG_RETENTION_DAYS, RetentionDays, repeated
from .chaos import BlastRadiusSpec, ChaosSpec, GameDaySpec, NotificationsSpec, ScenarioSpec, StepSpec, TargetSelection
from .cluster import (CLUSTER_AUTOSCALER_IMAGE_TAGS, DEFAULT_ADDONS, DEFAULT_K8S_VERSION, AddonVersions,
                      BlueGreenSpec, ClusterSpec, NodeGroupSpec)
from .connectivity import (ConnectivitySpec, DirectConnectSpec, OnPremSite, ResolverSpec, TransitGatewaySpec,
                           VpnSpec)
from .engine import raw_from_engine_config, raw_from_pulumi
from .errors import NAMESPACE, ConfigError, ConfigIssue
from .data import DataSpec, MessagingSpec, QueueSpec, TopicSpec
from .gitops import AppProjectSpec, ArgoCdSpec, GitOpsSpec, SsoSpec
from .imports import ID_FORMS, ImportSpec
from .lambda_concurrency import FunctionSpec, LambdaScheduleSpec, LambdaSpec, ProvisionedSpec
from .mesh import AuroraGuardSpec, CacheGuardSpec, DbGuardSpec, KeepaliveSpec, MeshSpec, OutlierSpec
from .network import AIRGAP_ENDPOINTS, NetworkSpec
from .observability import GrafanaSpec, ObservabilitySpec, PrometheusSpec
from .proxy import ProxySpec
from .regions import KNOWN_REGIONS, RegionSpec
from .scaling import CloudWatchMetricSpec, DependentSpec, ScalingSpec, ScheduleSpec, WafSpec
from .slos import SloSpec
from .stack import TOP_LEVEL_KEYS, StackConfig, parse_stack_config, plan_issues, semantic_issues

__all__ = [
    "AIRGAP_ENDPOINTS", "CLUSTER_AUTOSCALER_IMAGE_TAGS", "DEFAULT_ADDONS", "DEFAULT_K8S_VERSION", "KNOWN_REGIONS",
    "LOG_RETENTION_DAYS", "NAMESPACE", "TOP_LEVEL_KEYS",
    "ConfigError", "ConfigIssue",
    "AccountSpec", "AddonVersions", "AppProjectSpec", "ArgoCdSpec", "BlueGreenSpec", "ChaosSpec", "ClusterSpec", "ConnectivitySpec",
    "CloudWatchMetricSpec", "DependentSpec", "DirectConnectSpec", "GameDaySpec", "GrafanaSpec", "GitOpsSpec", "NetworkSpec", "ObservabilitySpec", "DataSpec", "MessagingSpec", "QueueSpec", "TopicSpec", "NodeGroupSpec", "OnPremSite", "PrometheusSpec", "ProxySpec",
    "FunctionSpec", "LambdaScheduleSpec", "LambdaSpec", "ProvisionedSpec",
    "AuroraGuardSpec", "CacheGuardSpec", "DbGuardSpec", "KeepaliveSpec", "MeshSpec", "OutlierSpec",
    "BlastRadiusSpec", "NotificationsSpec", "StepSpec",
    "ID_FORMS", "ImportSpec",
    "RegionSpec", "ResolverSpec", "RetentionDays", "ScalingSpec", "ScenarioSpec", "ScheduleSpec", "SloSpec",
    "SsoSpec", "StackConfig", "TargetSelection", "TransitGatewaySpec", "VpnSpec", "WafSpec",
    "parse_stack_config", "plan_issues", "raw_from_engine_config", "raw_from_pulumi", "repeated", "semantic_issues",
]

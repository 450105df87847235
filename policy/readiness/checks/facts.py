"""Upstream facts the readiness rules stand on, each with its source (read 2026-11-26).
A new add-on, chart or FIS target type adds its row here; a rule that meets one without a row
reports it, so nothing new slips past unchecked."""

from __future__ import annotations

# Built-in namespaces: they exist in every cluster (Kubernetes docs, "Namespaces": default,
# kube-node-lease, kube-public, kube-system).
BUILTIN_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})

# API groups served by Kubernetes itself (Kubernetes 1.33 API reference); any other group is a
# custom resource whose CRD must be installed first.
BUILTIN_GROUPS = frozenset({
    "", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io", "apps",
    "authentication.k8s.io", "authorization.k8s.io", "autoscaling", "batch", "certificates.k8s.io",
    "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io", "node.k8s.io", "policy", "rbac.authorization.k8s.io", "resource.k8s.io",
    "scheduling.k8s.io", "storage.k8s.io", "storagemigration.k8s.io",
})

# Kinds that are cluster-scoped (no namespace to wait for).
CLUSTER_SCOPED = frozenset({
    "Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "StorageClass", "PriorityClass", "RuntimeClass", "IngressClass", "CSIDriver", "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration", "APIService",
    # custom kinds, by their CRDs' `scope: Cluster` (sources in CRD_GROUPS_BY_CHART)
    "NodePool", "EC2NodeClass", "NodeClaim", "ClusterTriggerAuthentication",
})

# Which chart installs which CRD groups (Helm installs a chart's crds/ before its templates).
CRD_GROUPS_BY_CHART = {
    # aws/karpenter-provider-aws v1.8.6 charts/karpenter/crds: karpenter.sh_nodepools.yaml,
    # karpenter.sh_nodeclaims.yaml, karpenter.k8s.aws_ec2nodeclasses.yaml
    "karpenter": frozenset({"karpenter.sh", "karpenter.k8s.aws"}),
    # aws/karpenter-provider-aws v1.14.1 charts/karpenter-crd/templates (the same CRDs as its own
    # chart, plus autoscaling.x-k8s.io CapacityBuffers), published with every release
    "karpenter-crd": frozenset({"karpenter.sh", "karpenter.k8s.aws", "autoscaling.x-k8s.io"}),
    # kedacore/charts keda 2.20.2 templates/crds (crds.install: true by default): keda.sh,
    # eventing.keda.sh
    "keda": frozenset({"keda.sh", "eventing.keda.sh"}),
    # argoproj/argo-helm argo-cd 10.1.1 templates/crds (crds.install: true by default)
    "argo-cd": frozenset({"argoproj.io"}),
    # istio/istio 1.31 manifests/charts/base: templates/crds.yaml renders files/crd-all.gen.yaml
    # (base.enableCRDTemplates: true by default), every Istio CRD in these four groups. istiod ships none.
    "base": frozenset({"networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io"}),
}

# EKS add-ons that run only DaemonSets: they become ACTIVE with no node at all, and the VPC
# CNI must be there before nodes can turn Ready (EKS user guide, "Amazon VPC CNI", "kube-proxy",
# "EKS Pod Identity Agent"; terraform-aws-eks `before_compute`). Every other add-on runs a
# Deployment and stays DEGRADED (then times out) until a node can take its pods: CoreDNS
# (pulumi-eks#1819, #1525; terraform-aws-eks#3001), the EBS CSI controller, ...
DAEMONSET_ONLY_ADDONS = frozenset({"vpc-cni", "kube-proxy", "eks-pod-identity-agent", "eks-node-monitoring-agent"})

# AWS APIs each in-cluster component calls, as VPC endpoint service names
# (com.amazonaws.<region>.<name>). "iam" has no VPC endpoint: only a proxy reaches it.
# Credentials of add-ons with EKS Pod Identity come through the agent, which calls eks-auth.
# Sources (read 2026-11-26):
# - nodes: EKS user guide "Deploy private clusters with limited internet access"
#   (awsdocs private-clusters.adoc: ec2, ecr.api, ecr.dkr, s3; sts for IRSA); amazon-eks-ami
#   v20251108 nodeadm calls ec2:DescribeInstances (internal/api/status.go);
# - eks-pod-identity-agent: EKS user guide service-accounts.adoc ("For private clusters, the
#   eks-auth endpoint in AWS PrivateLink is required");
# - vpc-cni v1.20: ec2 (pkg/awsutils/awsutils.go); aws-ebs-csi-driver v1.50: ec2
#   (pkg/cloud/cloud.go); CoreDNS and kube-proxy call no AWS API;
# - Karpenter v1.8 docs "Private Clusters": ec2, ecr.api, ecr.dkr, s3, sts, ssm (AMI
#   parameters), sqs (interruption), eks (cluster endpoint); pricing unless settings.isolatedVPC;
#   IAM only to manage instance profiles for spec.role (none with spec.instanceProfile);
# - Cluster Autoscaler cloudprovider/aws/README.md (1.33): autoscaling, ec2, eks;
# - KEDA aws-cloudwatch scaler (v2.20.2 pkg/scalers/aws_cloudwatch_scaler.go): monitoring;
# - Argo CD v3.4 argocd-k8s-auth aws with roleARN (cmd/argocd-k8s-auth/commands/aws.go):
#   sts AssumeRole (the token itself is presigned locally);
# - Istio 1.31 base (CRDs, webhook configuration, RBAC: no pods) and istiod: no AWS API (istiod
#   talks to the Kubernetes API and the sidecars; its certificates are its own CA's, pilotCertProvider
#   istiod in the chart's values).
POD_IDENTITY_API = "eks-auth"
APIS = {
    ("nodes", "managed node group"): ("ec2", "ecr.api", "ecr.dkr", "s3", "sts"),
    ("addon", "eks-pod-identity-agent"): ("eks-auth",),
    ("addon", "vpc-cni"): ("ec2",),
    ("addon", "kube-proxy"): (),
    ("addon", "coredns"): (),
    ("addon", "aws-ebs-csi-driver"): ("ec2",),
    ("chart", "karpenter"): ("ec2", "ssm", "sqs", "eks", "sts", "iam"),
    ("chart", "karpenter-crd"): (),  # CRDs only, no pods
    ("chart", "cluster-autoscaler"): ("autoscaling", "ec2", "eks"),
    ("chart", "keda"): ("monitoring",),
    ("chart", "argo-cd"): ("sts",),
    ("chart", "base"): (),
    ("chart", "istiod"): (),
}

# FIS target resource types -> the Pulumi types that create them in a stack.
FIS_TARGET_TYPES = {
    "aws:eks:nodegroup": ("aws:eks/nodeGroup:NodeGroup",),
    "aws:ec2:subnet": ("aws:ec2/subnet:Subnet",),
    "aws:iam:role": ("aws:iam/role:Role",),
    "aws:ec2:transit-gateway": ("aws:ec2transitgateway/transitGateway:TransitGateway",),
    "aws:ec2:instance": ("aws:ec2/instance:Instance",),
    "aws:ec2:spot-instance": ("aws:ec2/spotInstanceRequest:SpotInstanceRequest",),
    "aws:eks:pod": (),
    # FIS user guide, actions reference (aws:rds:failover-db-cluster; aws:elasticache:
    # replicationgroup-interrupt-az-power), read 2026-11-26
    "aws:rds:cluster": ("aws:rds/cluster:Cluster",),
    "aws:elasticache:replicationgroup": ("aws:elasticache/replicationGroup:ReplicationGroup",),
}
# Tags that components put on EC2 instances they launch at run time (so no stack resource
# carries them). EKS managed node groups: instances are tagged eks:cluster-name and
# eks:nodegroup-name (EKS user guide, "Managed node groups": node labels and tags; FIS user
# guide, aws:eks:terminate-nodegroup-instances example policy conditions on
# aws:ResourceTag/eks:cluster-name). Karpenter v1.8 EC2NodeClass docs ("spec.tags"): every
# instance gets karpenter.sh/nodepool, karpenter.sh/nodeclaim, karpenter.k8s.aws/ec2nodeclass,
# kubernetes.io/cluster/<cluster>: owned and eks:eks-cluster-name.
RUNTIME_INSTANCE_TAGS = {
    "aws:eks/nodeGroup:NodeGroup": ("eks:cluster-name", "eks:nodegroup-name"),
    "karpenter": ("karpenter.sh/nodepool", "karpenter.sh/nodeclaim", "karpenter.k8s.aws/ec2nodeclass",
                  "kubernetes.io/cluster/{cluster}", "eks:eks-cluster-name"),
}

"""EKS: private endpoints, never world-open, secrets encrypted, all control-plane logs.
Checked on the provider's aws:eks/cluster:Cluster and on pulumi_eks's eks:index:Cluster inputs."""

from .base import as_list, get, is_map, resource_rule

EKS_TYPES = ("aws:eks/cluster:Cluster", "eks:index:Cluster")
# Every control-plane log type EKS has (EKS API LogType; user guide "Control plane logs"). The
# program enables the same list (components.cluster.LOG_TYPES), but kept here: the pack does not
# import the program, pulumi-aws types enabledClusterLogTypes as plain strings (no enum to read),
# and the plan only shows what was enabled, which is what this rule checks.
LOG_TYPES = {"api", "audit", "authenticator", "controllerManager", "scheduler"}


def _public(t, p):
    if t == "eks:index:Cluster":
        return p.get("endpointPublicAccess", True) is not False, as_list(p.get("publicAccessCidrs"))
    vpc = get(p, "vpcConfig", default={}) or {}
    return vpc.get("endpointPublicAccess", True) is not False, as_list(vpc.get("publicAccessCidrs"))


def _private_endpoint(t, p):
    public, _ = _public(t, p)
    if public:
        yield "the cluster API endpoint is public"


def _not_world_open(t, p):
    public, cidrs = _public(t, p)
    if public and (not cidrs or "0.0.0.0/0" in cidrs):
        yield "the public API endpoint accepts 0.0.0.0/0 (no publicAccessCidrs means the whole internet)"


def _secrets_encrypted(t, p):
    if t == "eks:index:Cluster":
        if not p.get("encryptionConfigKeyArn"):
            yield "Kubernetes secrets are not encrypted with a KMS key"
        return
    configs = as_list(p.get("encryptionConfig"))
    if not any("secrets" in as_list(c.get("resources")) and get(c, "provider", "keyArn") for c in configs
               if is_map(c)):
        yield "Kubernetes secrets are not encrypted with a KMS key"


def _logs(t, p):
    missing = sorted(LOG_TYPES - set(as_list(p.get("enabledClusterLogTypes"))))
    if missing:
        yield f"control-plane log types missing: {', '.join(missing)}"


POLICIES = [
    resource_rule("eks-private-endpoint", "EKS API endpoints are private (mandatory in prod).",
                  "set cluster.endpointAccess: private (endpointPublicAccess false)", EKS_TYPES, _private_endpoint),
    resource_rule("eks-public-endpoint-not-world-open", "A public EKS endpoint never admits 0.0.0.0/0.",
                  "make it private, or list the office/VPN ranges in publicAccessCidrs", EKS_TYPES, _not_world_open),
    resource_rule("eks-secrets-encrypted", "EKS secrets are envelope-encrypted with a KMS key.",
                  "set encryptionConfigKeyArn (encryptionConfig with resources [secrets])", EKS_TYPES,
                  _secrets_encrypted),
    resource_rule("eks-control-plane-logs", "All five EKS control-plane log types are enabled.",
                  "enable api, audit, authenticator, controllerManager and scheduler logs", EKS_TYPES, _logs),
]

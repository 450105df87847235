"""Managed Prometheus and Grafana: metric data encrypted with a key the account controls and its
workspace's logs kept; Grafana signed in through an identity provider, never with a role AWS
would create on the console's say-so.

AMP encrypts with an AWS-owned key unless the workspace names a customer-managed one at creation
(AMP user guide, "Encryption at rest": workspaces "can't be converted" later), and writes its
logs only with a logging configuration (CreateLoggingConfiguration, a log group ARN ending `:*`).
Amazon Managed Grafana created through the API takes only CUSTOMER_MANAGED permissions with a
role the caller manages (botocore grafana CreateWorkspace.permissionType)."""

from .base import get, resource_rule

WORKSPACE = "aws:amp/workspace:Workspace"
GRAFANA = "aws:grafana/workspace:Workspace"


def _amp_encrypted_and_logged(t, p):
    if not get(p, "kmsKeyArn"):
        yield "the workspace's metrics are encrypted with an AWS-owned key (no kmsKeyArn), fixed at creation"
    if not get(p, "loggingConfiguration", "logGroupArn"):
        yield "the workspace has no logging configuration: rule and alerting errors are lost"


def _grafana_managed(t, p):
    if get(p, "permissionType") != "CUSTOMER_MANAGED" or not get(p, "roleArn"):
        yield (f"permissionType {get(p, 'permissionType')!r} without a role the stack manages: the API needs "
               "CUSTOMER_MANAGED with roleArn, and what the workspace may read must be reviewable")
    if not get(p, "authenticationProviders"):
        yield "no authentication provider"


POLICIES = [
    resource_rule("amp-workspace-customer-key-and-logs",
                  "Prometheus workspaces encrypt with a customer-managed key and log to CloudWatch.",
                  "set kmsKeyArn (a customer-managed key; only at creation) and loggingConfiguration.logGroupArn",
                  (WORKSPACE,), _amp_encrypted_and_logged),
    resource_rule("grafana-customer-managed-role",
                  "Managed Grafana workspaces use a role the stack manages and an identity provider.",
                  "set permissionType CUSTOMER_MANAGED with roleArn, and authenticationProviders",
                  (GRAFANA,), _grafana_managed),
]

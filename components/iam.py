"""IAM policy documents, written one way everywhere (policies read as data, not as JSON)."""

from __future__ import annotations

import json
from typing import Any, Optional, Sequence, Union

import pulumi

VERSION = "2012-10-17"


def document(statements: Sequence[dict]) -> str:
    """A policy document from plain statements."""
    return json.dumps({"Version": VERSION, "Statement": list(statements)})


def policy_document(statements: pulumi.Input[Sequence[Any]]) -> pulumi.Output[str]:
    """A policy document whose statements may hold Outputs (ARNs of resources being created)."""
    return pulumi.Output.from_input(statements).apply(
        lambda s: json.dumps({"Version": VERSION, "Statement": s}, sort_keys=True))


def trust(principal: dict, actions: Union[str, Sequence[str]] = "sts:AssumeRole",
          condition: Optional[dict] = None) -> str:
    """An assume-role (trust) policy for one principal."""
    statement: dict = {"Effect": "Allow", "Principal": principal,
                       "Action": actions if isinstance(actions, str) else list(actions)}
    if condition:
        statement["Condition"] = condition
    return document([statement])


def service_trust(service: str, actions: Union[str, Sequence[str]] = "sts:AssumeRole",
                  condition: Optional[dict] = None) -> str:
    return trust({"Service": service}, actions, condition)


def key_admin_statement(account: str, partition: str) -> dict:
    """The account administers its own KMS key (the default key policy's first statement)."""
    return {"Sid": "AccountAdministers", "Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
            "Action": "kms:*", "Resource": "*"}


def pod_identity_trust() -> str:
    """Roles handed to pods through EKS Pod Identity."""
    return service_trust("pods.eks.amazonaws.com", ["sts:AssumeRole", "sts:TagSession"])

"""Notifications: an AWS service that publishes to an encrypted SNS topic must be allowed to use
the topic's key, and EventBridge also needs the topic's policy. Both fail silently: the rule or
the alarm fires, nothing arrives (the rule's FailedInvocations metric is the only trace).

Sources (read 2026-11-26):
- SNS developer guide, "Managing Amazon SNS encryption keys and costs", "Enable compatibility
  between event sources from AWS services and encrypted topics": the service principal needs
  kms:GenerateDataKey* and kms:Decrypt in the key policy (Amazon CloudWatch:
  cloudwatch.amazonaws.com; Amazon CloudWatch Events: events.amazonaws.com); "Adding the
  aws:SourceAccount, aws:SourceArn, and aws:SourceOrgID to a AWS KMS policy is not supported for
  EventBridge-to-encrypted topics" (landing-zone-accelerator-on-aws#407: deliveries fail);
- EventBridge user guide, "Amazon SNS permissions": the topic's resource policy must allow
  events.amazonaws.com sns:Publish (re:Post knowledge center, "sns-not-getting-eventbridge-
  notification");
- AMP user guide, "Giving Amazon Managed Service for Prometheus permission to send alert messages
  to your Amazon SNS topic": an alert manager's topic needs a policy allowing aps.amazonaws.com
  sns:Publish, and an SSE topic's key kms:GenerateDataKey* and kms:Decrypt for aps.amazonaws.com;
  otherwise alertmanager logs "AMP is not authorized to perform: SNS:Publish" (Troubleshooting,
  "No resource based policy error") and the alert is dropped;
- an AWS-managed key (alias/aws/sns) admits no service principal: such a topic never receives
  a service's publishes.
"""

from __future__ import annotations

from collections.abc import Mapping

from .graph import Graph, as_json, as_list, get
from .rule import readiness_rule

TOPIC = "aws:sns/topic:Topic"
TOPIC_POLICY = "aws:sns/topicPolicy:TopicPolicy"
KEY = "aws:kms/key:Key"
EVENT_TARGET = "aws:cloudwatch/eventTarget:EventTarget"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
ALERT_MANAGER = "aws:amp/alertManagerDefinition:AlertManagerDefinition"
SOURCE_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid"}


def _statements(doc) -> list:
    return [s for s in as_list(get(as_json(doc) or {}, "Statement")) if isinstance(s, Mapping)]


def _names_service(statement: Mapping, service: str) -> bool:
    principal = statement.get("Principal")
    services = as_list(get(principal, "Service")) if isinstance(principal, Mapping) else []
    return statement.get("Effect") == "Allow" and service in services


def _allows(statement: Mapping, *actions: str) -> bool:
    listed = {str(a).lower() for a in as_list(statement.get("Action"))}
    return all(a.lower() in listed or f"{a.split(':')[0]}:*".lower() in listed for a in actions)


def _condition_keys(statement: Mapping) -> set[str]:
    return {k.lower() for conds in (statement.get("Condition") or {}).values() if isinstance(conds, Mapping)
            for k in conds}


def _key_problem(g: Graph, topic, service: str) -> str | None:
    """Why `service` cannot use the topic's key, or None. Keys outside the stack are not judged."""
    if not get(topic.props, "kmsMasterKeyId"):
        return None
    keys = g.prop_deps(topic, "kmsMasterKeyId", (KEY,))
    if not keys:
        key_id = str(get(topic.props, "kmsMasterKeyId"))
        if key_id.endswith("alias/aws/sns"):
            return f"topic {topic.name} is encrypted with alias/aws/sns, which no service principal may use"
        return None
    usable = [s for s in _statements(get(keys[0].props, "policy")) if _names_service(s, service)
              and _allows(s, "kms:GenerateDataKey*", "kms:Decrypt")]
    if not usable:
        return (f"the key of topic {topic.name} ({keys[0].name}) does not let {service} use it "
                "(kms:GenerateDataKey* and kms:Decrypt)")
    if service == "events.amazonaws.com" and all(_condition_keys(s) & SOURCE_KEYS for s in usable):
        return (f"the key of topic {topic.name} ({keys[0].name}) lets {service} use it only under "
                "aws:SourceAccount/aws:SourceArn/aws:SourceOrgID, which EventBridge-to-encrypted-topic "
                "deliveries do not carry")
    return None


def _admitting(g: Graph, topic, service: str) -> list:
    """The stack's policies of `topic` that let `service` publish to it."""
    return [p for p in g.of_type(TOPIC_POLICY) if topic in g.prop_deps(p, "arn", (TOPIC,))
            and any(_names_service(s, service) and _allows(s, "sns:Publish") for s in _statements(get(p.props, "policy")))]


def _publisher(g: Graph, sender, topic, service: str, label: str, sender_name: str, lost: str):
    """A service that publishes to an encrypted topic on a sender's behalf: the topic's key and a
    topic policy must admit it, and the sender must wait for that policy."""
    problem = _key_problem(g, topic, service)
    if problem:
        yield problem, sender.urn
    admits = _admitting(g, topic, service)
    if not admits:
        yield (f"no topic policy of {topic.name} lets {label} ({service}) publish: {sender_name} delivers "
               "nothing"), sender.urn
    elif not any(p.urn in g.waits_for(sender) for p in admits):
        yield (f"{sender_name} does not wait for the topic policy that admits {label}: {lost} before it exists "
               "are lost"), sender.urn


def _delivery(g: Graph):
    for definition in g.of_type(ALERT_MANAGER):
        for topic in g.prop_deps(definition, "definition", (TOPIC,)):
            yield from _publisher(g, definition, topic, "aps.amazonaws.com", "AMP",
                                  f"alert manager {definition.name}", "alerts sent")
    for target in g.of_type(EVENT_TARGET):
        for topic in g.prop_deps(target, "arn", (TOPIC,)):
            yield from _publisher(g, target, topic, "events.amazonaws.com", "EventBridge",
                                  f"rule target {target.name}", "events matched")
    for alarm in g.of_type(ALARM):
        topics = {t.urn: t for key in ("alarmActions", "okActions", "insufficientDataActions")
                  for t in g.prop_deps(alarm, key, (TOPIC,))}
        for topic in topics.values():
            problem = _key_problem(g, topic, "cloudwatch.amazonaws.com")
            if problem:
                yield problem, alarm.urn


POLICIES = [
    readiness_rule(
        "sns-publishers-can-use-topic",
        "An AWS service that publishes to an encrypted SNS topic may use its key: EventBridge targets, CloudWatch "
        "alarm actions and AMP alert managers need kms:GenerateDataKey* and kms:Decrypt for their service principal "
        "in the key policy (for EventBridge without aws:SourceAccount/SourceArn conditions, which its deliveries do "
        "not carry); an EventBridge target or AMP alert manager also needs a topic policy admitting "
        "events.amazonaws.com or aps.amazonaws.com, in place before it.",
        "give the topic a customer key whose policy names the publishing service principal, a topic policy "
        "admitting the service (scoped by aws:SourceArn to the rule or workspace), and make the target or alert "
        "manager definition depend on it",
        _delivery),
]

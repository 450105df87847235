"""Messaging: SNS topics and SQS queues are encrypted, and every queue a topic feeds has a
dead-letter queue, so a poison message cannot be retried forever or silently dropped."""

from .base import resource_rule, stack_rule

QUEUE = "aws:sqs/queue:Queue"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"


def _topic_encrypted(t, p):
    if not p.get("kmsMasterKeyId"):
        yield "the topic is not encrypted (no kmsMasterKeyId)"


def _queue_encrypted(t, p):
    if not p.get("kmsMasterKeyId") and p.get("sqsManagedSseEnabled") is not True:
        yield "the queue is not encrypted (neither kmsMasterKeyId nor sqsManagedSseEnabled)"


def _fed_queues_have_dlq(resources):
    """Queues that are the endpoint of an SQS subscription (linked by property dependency, as the
    engine sends it) must carry a redrive policy."""
    by_urn = {r.urn: r for r in resources}
    for sub in resources:
        if sub.resource_type != SUBSCRIPTION or sub.props.get("protocol") != "sqs":
            continue
        for dep in (sub.property_dependencies or {}).get("endpoint", []):
            queue = by_urn.get(dep.urn)
            if queue is not None and queue.resource_type == QUEUE and not queue.props.get("redrivePolicy"):
                yield f"queue {queue.name} is fed by a topic but has no dead-letter queue (redrivePolicy)", queue.urn


POLICIES = [
    resource_rule("sns-encrypted", "SNS topics are encrypted with a KMS key.",
                  "set kmsMasterKeyId to a customer-managed key SNS may use", ("aws:sns/topic:Topic",),
                  _topic_encrypted),
    resource_rule("sqs-encrypted", "SQS queues are encrypted (a KMS key, or SQS-managed SSE).",
                  "set kmsMasterKeyId (or sqsManagedSseEnabled: true)", (QUEUE,), _queue_encrypted),
]
STACK_POLICIES = [
    stack_rule("sqs-fed-queues-have-dlq", "Every SQS queue fed by an SNS topic has a dead-letter queue.",
               "give the queue a redrivePolicy with a deadLetterTargetArn and maxReceiveCount",
               _fed_queues_have_dlq),
]

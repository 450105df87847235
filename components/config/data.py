"""`data`: the data tier a new service needs behind the clusters. So far the push path:
SNS topics fanning out to SQS queues, each queue with its dead-letter queue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from pydantic import Field

from .base import SLUG, _Model, repeated
from .errors import ConfigIssue

if TYPE_CHECKING:
    from .stack import StackConfig

# SQS: a queue name is at most 80 characters (CreateQueue, QueueName); the DLQ adds "-dlq".
SQS_NAME_MAX = 80


class QueueSpec(_Model):
    """One SQS queue subscribed to its topic, with a dead-letter queue (`<queue>-dlq`, kept 14 days)
    that takes a message after `maxReceiveCount` failed receives."""
    name: str = Field(pattern=SLUG, description="queue `<env>-<region code>-<topic>-<name>`; its DLQ adds `-dlq`")
    filter_policy: Optional[dict[str, Any]] = Field(
        None, description="SNS subscription filter policy on message attributes; none delivers every message")
    max_receive_count: int = Field(5, ge=1, le=1000, description="receives before a message moves to the DLQ "
                                                                 "(SQS accepts 1-1000)")
    raw_delivery: bool = Field(True, description="deliver the message body as published, without the SNS envelope")


class TopicSpec(_Model):
    """An SNS topic, encrypted with the region's messaging key, fanning out to its queues, each of
    which admits only this topic (queue policy on `aws:SourceArn`, TLS only)."""
    name: str = Field(pattern=SLUG, description="topic `<env>-<region code>-<name>`")
    queues: list[QueueSpec] = Field(min_length=1, description="the queues this topic delivers to")


class MessagingSpec(_Model):
    """SNS -> SQS push: topics and queues per region, all encrypted with one customer-managed key per
    region that SNS may use (SNS must encrypt for the encrypted queues it writes to)."""
    topics: list[TopicSpec] = Field(min_length=1, description="the topics and the queues they fan out to")
    regions: Optional[list[str]] = Field(None, description="the regions that get them; all when omitted")


class DataSpec(_Model):
    """The data tier behind the clusters."""
    messaging: Optional[MessagingSpec] = Field(None, description="SNS topics fanning out to SQS queues with DLQs")


def issues(cfg: StackConfig) -> list[ConfigIssue]:
    out: list[ConfigIssue] = []
    data = cfg.data
    if data is None or data.messaging is None:
        return out
    msg = data.messaging
    for name in repeated(t.name for t in msg.topics):
        out.append(ConfigIssue("data.messaging.topics", f"topic '{name}' is declared twice"))
    for i, topic in enumerate(msg.topics):
        for name in repeated(q.name for q in topic.queues):
            out.append(ConfigIssue(f"data.messaging.topics[{i}].queues", f"queue '{name}' is declared twice"))
        for j, queue in enumerate(topic.queues):
            # The longest region code is 5 characters (apne2, usw2, ...): check the worst case.
            longest = f"{cfg.environment}-xxxxx-{topic.name}-{queue.name}-dlq"
            if len(longest) > SQS_NAME_MAX:
                out.append(ConfigIssue(f"data.messaging.topics[{i}].queues[{j}].name",
                                       f"'{longest}' would exceed SQS's {SQS_NAME_MAX}-character queue name limit"))
    for region in msg.regions or []:
        if region not in cfg.region_names:
            out.append(ConfigIssue("data.messaging.regions", f"'{region}' is not one of this stack's regions"))
    return out

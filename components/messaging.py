"""Data tier, push path: SNS topics fanning out to SQS queues, each with a dead-letter queue.

One customer-managed key per region encrypts topics and queues. SNS must be able to use it: it
encrypts what it writes to an encrypted queue with the queue's key (SNS developer guide,
"Enabling compatibility between encrypted topics and queues"), which the AWS-managed aws/sqs key
never allows. Each queue's policy admits only its own topic (aws:SourceArn) and only over TLS;
the subscription waits for that policy so the first messages are not refused."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from .iam import document, key_admin_statement
from .naming import RegionContext, partition_of
from .stack import StackSpec
from .wiring import RegionWiring

DLQ_RETENTION_SECONDS = 1_209_600  # 14 days, SQS's maximum: time to look at what failed


@dataclass(frozen=True, kw_only=True)
class QueueArgs:
    name: str
    max_receive_count: int
    raw_delivery: bool
    filter_policy: Optional[dict] = None


@dataclass(frozen=True, kw_only=True)
class TopicArgs:
    name: str
    queues: tuple[QueueArgs, ...]


@dataclass(frozen=True, kw_only=True)
class MessagingArgs:
    ctx: RegionContext
    account: pulumi.Input[str]
    topics: tuple[TopicArgs, ...]
    protect_key: bool = False


def messaging_args(spec: StackSpec, w: RegionWiring) -> Optional[MessagingArgs]:
    msg = spec.config.data.messaging
    if msg is None or (msg.regions is not None and w.ctx.region not in msg.regions):
        return None
    return MessagingArgs(
        ctx=w.ctx, account=w.account, protect_key=spec.config.environment == "prod",
        topics=tuple(TopicArgs(name=t.name, queues=tuple(QueueArgs(
            name=q.name, max_receive_count=q.max_receive_count, raw_delivery=q.raw_delivery,
            filter_policy=q.filter_policy) for q in t.queues)) for t in msg.topics))


def messaging_key_policy(account: str, partition: str) -> str:
    return document([
        key_admin_statement(account, partition),
        {"Sid": "SnsEncryptsForTopicsAndQueues", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
         "Condition": {"StringEquals": {"aws:SourceAccount": account}}},
    ])


def queue_policy(queue_arn: str, topic_arn: str) -> str:
    return document([
        {"Sid": "OnlyItsTopic", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
         "Action": "sqs:SendMessage", "Resource": queue_arn,
         "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}}},
        {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "sqs:*", "Resource": queue_arn,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ])


class MessagingTier(pulumi.ComponentResource):
    def __init__(self, name: str, args: MessagingArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("global-platform:messaging:MessagingTier", name, None, opts)
        ctx = args.ctx
        child = pulumi.ResourceOptions(parent=self)
        partition = partition_of(ctx.region)
        self.key = aws.kms.Key(
            ctx.name("messaging"), description=f"{ctx.environment} SNS/SQS encryption in {ctx.region}",
            enable_key_rotation=True, deletion_window_in_days=30,
            policy=pulumi.Output.from_input(args.account).apply(lambda a: messaging_key_policy(a, partition)),
            tags=ctx.tags("messaging-key"), opts=pulumi.ResourceOptions(parent=self, protect=args.protect_key))
        aws.kms.Alias(ctx.name("messaging"), name=f"alias/global-platform/{ctx.environment}/{ctx.code}/messaging",
                      target_key_id=self.key.key_id, opts=child)
        self.topics: dict[str, aws.sns.Topic] = {}
        self.queues: dict[str, aws.sqs.Queue] = {}
        for topic in args.topics:
            t = self.topics[topic.name] = aws.sns.Topic(
                ctx.name("topic", topic.name), name=f"{ctx.environment}-{ctx.code}-{topic.name}",
                kms_master_key_id=self.key.arn, tags=ctx.tags(f"topic-{topic.name}"), opts=child)
            for q in topic.queues:
                self.queues[f"{topic.name}/{q.name}"] = self._queue(ctx, topic.name, q, t, child)
        self.register_outputs({"topicArns": {k: t.arn for k, t in self.topics.items()}})

    def _queue(self, ctx: RegionContext, topic: str, q: QueueArgs, t: aws.sns.Topic,
               child: pulumi.ResourceOptions) -> aws.sqs.Queue:
        base = f"{ctx.environment}-{ctx.code}-{topic}-{q.name}"
        key = f"{topic}-{q.name}"
        dlq = aws.sqs.Queue(ctx.name("dlq", key), name=f"{base}-dlq", kms_master_key_id=self.key.arn,
                            message_retention_seconds=DLQ_RETENTION_SECONDS, tags=ctx.tags(f"dlq-{key}"), opts=child)
        queue = aws.sqs.Queue(
            ctx.name("queue", key), name=base, kms_master_key_id=self.key.arn,
            redrive_policy=dlq.arn.apply(lambda arn: json.dumps(
                {"deadLetterTargetArn": arn, "maxReceiveCount": q.max_receive_count}, sort_keys=True)),
            tags=ctx.tags(f"queue-{key}"), opts=child)
        policy = aws.sqs.QueuePolicy(
            ctx.name("queue", key), queue_url=queue.url,
            policy=pulumi.Output.all(queue.arn, t.arn).apply(lambda v: queue_policy(v[0], v[1])), opts=child)
        aws.sns.TopicSubscription(
            ctx.name("subscription", key), topic=t.arn, protocol="sqs", endpoint=queue.arn,
            raw_message_delivery=q.raw_delivery,
            filter_policy=json.dumps(q.filter_policy, sort_keys=True) if q.filter_policy else None,
            filter_policy_scope="MessageAttributes" if q.filter_policy else None,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]))
        return queue

"""Data tier, push path: SNS topics fan out to encrypted SQS queues, each with its DLQ, each
admitting only its topic; bad config names its key."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError
from tests.helpers import run, shipped, variant


def _regs(r, typ):
    return r.of_type(typ)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_each_queue_has_its_dlq_its_topic_and_only_its_topic(stack):
    r = shipped(stack)
    topics = {t.outputs["arn"]: t for t in _regs(r, "aws:sns/topic:Topic") if "-slo-" not in t.inputs["name"]}
    queues = {q.outputs["arn"]: q for q in _regs(r, "aws:sqs/queue:Queue")}
    subs = _regs(r, "aws:sns/topicSubscription:TopicSubscription")
    spec = r.spec.config.data.messaging
    assert len(subs) == len(r.spec.config.regions) * sum(len(t.queues) for t in spec.topics)
    for sub in subs:
        queue, topic = queues[sub.inputs["endpoint"]], topics[sub.inputs["topic"]]
        assert sub.inputs["protocol"] == "sqs" and sub.inputs["rawMessageDelivery"] is True, sub.urn
        redrive = json.loads(queue.inputs["redrivePolicy"])
        dlq = queues[redrive["deadLetterTargetArn"]]
        assert dlq.inputs["name"] == queue.inputs["name"] + "-dlq" and dlq.inputs["messageRetentionSeconds"] == 1209600
        key = topic.inputs["kmsMasterKeyId"]
        assert queue.inputs["kmsMasterKeyId"] == key == dlq.inputs["kmsMasterKeyId"], queue.urn
        (policy,) = [p for p in _regs(r, "aws:sqs/queuePolicy:QueuePolicy") if p.inputs["queueUrl"] == queue.outputs["url"]]
        doc = json.loads(policy.inputs["policy"])
        allow = [s for s in doc["Statement"] if s["Effect"] == "Allow"]
        assert allow == [{"Sid": "OnlyItsTopic", "Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                          "Action": "sqs:SendMessage", "Resource": queue.outputs["arn"],
                          "Condition": {"ArnEquals": {"aws:SourceArn": topic.outputs["arn"]}}}], policy.urn
        assert policy.urn in sub.dependencies, "the subscription waits for the queue policy"


def test_the_key_lets_sns_encrypt_for_the_queues():
    r = shipped("prod")
    keys = [k for k in _regs(r, "aws:kms/key:Key") if "SNS/SQS" in k.inputs["description"]]
    assert len(keys) == len(r.spec.config.regions)
    for key in keys:
        sids = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
        sns = sids["SnsEncryptsForTopicsAndQueues"]
        assert sns["Principal"] == {"Service": "sns.amazonaws.com"}
        assert set(sns["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"} and "aws:SourceAccount" in str(sns)
        assert key.protect and key.inputs["enableKeyRotation"] is True, key.urn


def test_filter_policies_apply_to_message_attributes():
    r = shipped("prod")
    filtered = [s for s in _regs(r, "aws:sns/topicSubscription:TopicSubscription") if s.inputs.get("filterPolicy")]
    assert filtered
    for s in filtered:
        assert json.loads(s.inputs["filterPolicy"]) == {"event": ["confirmed", "cancelled"]}
        assert s.inputs["filterPolicyScope"] == "MessageAttributes"


def test_a_queue_name_sqs_would_refuse_is_a_config_error(tmp_path):
    # stage-<code>-<32>-<32>-dlq is 81 characters; SQS takes 80.
    long = {"topics": [{"name": "a" * 32, "queues": [{"name": "b" * 32}]}]}
    with pytest.raises(ConfigError) as err:
        run("dev", variant(tmp_path, "dev", environment="stage", data={"messaging": long}))
    assert "global-platform:data.messaging.topics[0].queues[0].name" in err.value.render()
    assert "80-character queue name limit" in err.value.render()


@pytest.mark.parametrize("messaging, key, needle", [
    ({"topics": [{"name": "a", "queues": [{"name": "q", "maxReceiveCount": 0}]}]},
     "data.messaging.topics[0].queues[0].maxReceiveCount", "greater than or equal to 1"),
    ({"topics": [{"name": "a", "queues": [{"name": "q", "maxReceiveCount": 1001}]}]},
     "data.messaging.topics[0].queues[0].maxReceiveCount", "less than or equal to 1000"),
    ({"topics": [{"name": "a", "queues": [{"name": "q"}, {"name": "q"}]}]},
     "data.messaging.topics[0].queues", "queue 'q' is declared twice"),
    ({"topics": [{"name": "a", "queues": [{"name": "q"}]}], "regions": ["eu-west-1"]},
     "data.messaging.regions", "not one of this stack's regions"),
    ({"topics": [{"name": "Bad_Name", "queues": [{"name": "q"}]}]}, "data.messaging.topics[0].name", "pattern"),
])
def test_bad_messaging_config_names_the_key(tmp_path, messaging, key, needle):
    with pytest.raises(ConfigError) as err:
        run("dev", variant(tmp_path, "dev", data={"messaging": messaging}))
    text = err.value.render()
    assert f"global-platform:{key}" in text and needle in text, text

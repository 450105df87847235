"""Published KEDA triggers as KEDA v2.20.2 parses them, and the SLO -> trigger translation."""

from __future__ import annotations

import json

import pytest

from components.slo import SloArgs, has_keda_trigger, keda_trigger, metric_collection_time
from tools.upstream.keda_triggers import check, check_trigger

OK = {"type": "aws-cloudwatch", "metadata": {
    "awsRegion": "eu-west-1", "minMetricValue": "0", "targetMetricValue": "0.35", "metricStatPeriod": "60",
    "metricCollectionTime": "300", "namespace": "AWS/ApplicationELB", "metricName": "TargetResponseTime",
    "dimensionName": "LoadBalancer", "dimensionValue": "app/web/1", "metricStat": "p99"}}


def with_meta(**changes):
    meta = {**OK["metadata"], **changes}
    return {"type": "aws-cloudwatch", "metadata": {k: v for k, v in meta.items() if v is not None}}


@pytest.mark.parametrize("trigger, path, needle", [
    # What the platform used to publish for the 5xx SLO: arithmetic around two aggregates.
    (with_meta(namespace=None, metricName=None, dimensionName=None, dimensionValue=None, metricStat=None,
               expression='SELECT SUM(HTTPCode_Target_5XX_Count) * 100 / SUM(RequestCount) FROM '
                          '"AWS/ApplicationELB" WHERE LoadBalancer = \'app/web/1\''),
     "metadata.expression", "not a Metrics Insights query"),
    (with_meta(dimensionName=None, dimensionValue=None), "metadata.dimensionName", "required"),
    (with_meta(dimensionValue="a;b"), "metadata.dimensionValue", "not matching in size"),
    (with_meta(metricStatPeriod="120", metricCollectionTime="300"), "metadata.metricCollectionTime", "multiple"),
    (with_meta(metricStatPeriod="90"), "metadata.metricStatPeriod", "multiple of 60"),
    (with_meta(metricStatPeriod="20"), "metadata.metricStatPeriod", "1, 5, 10, 30, 60"),
    (with_meta(targetMetricValue=None), "metadata.targetMetricValue", "required"),
    (with_meta(metricStat="p"), "metadata.metricStat", "not a CloudWatch statistic"),
    (with_meta(metricNmae="x"), "metadata.metricNmae", "not a parameter"),
])
def test_keda_would_refuse_it(trigger, path, needle):
    problems = check_trigger(trigger)
    assert any(p == path and needle in msg for p, msg in problems), problems


@pytest.mark.parametrize("expression", [
    'SELECT AVG(CPUUtilization) FROM "AWS/EC2"',
    "SELECT SUM(HTTPCode_Target_5XX_Count) FROM \"AWS/ApplicationELB\" WHERE LoadBalancer = 'app/web/1'",
    'SELECT MAX("QueueLagSeconds") FROM SCHEMA("Ticketing", Service) GROUP BY Service ORDER BY MAX() DESC LIMIT 10',
])
def test_valid_insights_queries_pass(expression):
    trigger = with_meta(namespace=None, metricName=None, dimensionName=None, dimensionValue=None, metricStat=None,
                        expression=expression)
    assert check_trigger(trigger) == []
    assert check_trigger(OK) == []


def slo(**kw):
    base = dict(name="s", kind="custom", percentile="p99", objective=30, period_seconds=60, evaluation_periods=3,
                datapoints_to_alarm=None, load_balancer="app/web/1", namespace="Ticketing",
                metric_name="QueueLagSeconds", dimensions=(("Service", "booking"),), statistic="p95")
    return SloArgs(**{**base, **kw})


@pytest.mark.parametrize("args", [
    dict(kind="latency"), dict(), dict(dimensions=(), statistic="Average"), dict(dimensions=(), statistic="Sum"),
    *[dict(period_seconds=p) for p in (10, 30, 60, 300)],
])
def test_every_trigger_the_platform_builds_is_one_keda_accepts(args):
    s = slo(**args)
    assert has_keda_trigger(s)
    trigger = keda_trigger(s, "eu-west-1")
    assert check_trigger(trigger) == [], trigger
    meta = trigger["metadata"]
    assert int(meta["metricCollectionTime"]) % int(meta["metricStatPeriod"]) == 0
    assert int(meta["metricCollectionTime"]) >= 300


@pytest.mark.parametrize("args", [dict(kind="errorRate"), dict(dimensions=(), statistic="p95")])
def test_signals_no_trigger_can_carry_are_not_published(args):
    s = slo(**args)
    assert not has_keda_trigger(s)
    with pytest.raises(ValueError, match="no KEDA aws-cloudwatch trigger"):
        keda_trigger(s, "eu-west-1")


def test_collection_time_is_a_multiple_of_the_period_spanning_five_minutes():
    assert [metric_collection_time(p) for p in (10, 30, 60, 120, 300, 600)] == [300, 300, 300, 360, 300, 600]


def test_check_reads_the_published_configmap():
    doc = {"steps": [{"op": "create", "urn": "urn:x::cm", "newState": {"type": "kubernetes:core/v1:ConfigMap", "inputs": {
        "metadata": {"name": "platform-slo-triggers", "namespace": "keda"},
        "data": {"good": json.dumps(OK), "bad": json.dumps(with_meta(metricStatPeriod="90"))}}}}]}
    (finding,) = check(doc)
    assert finding.path == "data.bad.metadata.metricStatPeriod" and finding.urn == "urn:x::cm"

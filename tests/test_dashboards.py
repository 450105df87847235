"""The regional dashboard (the worked example of a capability): every SLO has a picture, on the
region's own alarms, TGW and WAF."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run, shipped, variant

STACKS = ["dev", "prod", "airgap"]


def _by_region(r, typ):
    out = {}
    for x in r.of_type(typ):
        out[r.region_of(x)] = out.get(r.region_of(x), []) + [x]
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_every_region_has_a_dashboard_with_its_own_slos_tgw_and_waf(stack):
    r = shipped(stack)
    dashboards = _by_region(r, "aws:cloudwatch/dashboard:Dashboard")
    assert set(dashboards) == set(r.spec.config.region_names)
    alarms = _by_region(r, "aws:cloudwatch/metricAlarm:MetricAlarm")
    tgws = _by_region(r, "aws:ec2transitgateway/transitGateway:TransitGateway")
    acls = _by_region(r, "aws:wafv2/webAcl:WebAcl")
    for region, (dash,) in dashboards.items():
        widgets = json.loads(dash.inputs["dashboardBody"])["widgets"]
        shown = {arn for w in widgets if w["type"] == "alarm" for arn in w["properties"]["alarms"]}
        assert shown == {a.outputs["arn"] for a in alarms.get(region, [])}, dash.urn
        metrics = [m for w in widgets if w["type"] == "metric" for m in w["properties"]["metrics"]]
        assert ["AWS/TransitGateway", "BytesIn", "TransitGateway", tgws[region][0].id] in metrics, dash.urn
        waf = [m for m in metrics if m[0] == "AWS/WAFV2"]
        assert bool(waf) == (region in acls), dash.urn
        if waf:
            # The WebACL dimension is the ACL's metric name (VisibilityConfig), not its name.
            assert waf[0][3] == acls[region][0].inputs["visibilityConfig"]["metricName"], dash.urn
            assert waf[0][3] != acls[region][0].inputs["name"] and waf[0][5] == region, dash.urn
        assert all(w["properties"].get("region", region) == region for w in widgets), dash.urn


def test_dashboards_false_turns_them_off(tmp_path):
    r = run("dev", variant(tmp_path, "dev", observability={"dashboards": False}))
    assert not r.of_type("aws:cloudwatch/dashboard:Dashboard")
    assert len(r.doc["steps"]) == len(shipped("dev").doc["steps"]) - 2 * len(r.spec.config.regions)

"""Guards the Pulumi SDK internals the offline runtime stands on (tools/offline.py).
If an SDK bump breaks any of these, the preview would silently lose fields: fail here."""

import inspect
import textwrap

from pulumi.runtime import mocks as sdk_mocks

from tools.offline import load_stack_file, run_program

PROGRAM = '''
import pulumi, pulumi_aws as aws

class Box(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("test:index:Box", name, None, opts)
        p = aws.Provider("p", region="eu-west-1", opts=pulumi.ResourceOptions(parent=self))
        vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16", opts=pulumi.ResourceOptions(parent=self, provider=p, protect=True))
        aws.ec2.Subnet("s", vpc_id=vpc.id, cidr_block="10.0.0.0/24",
                       opts=pulumi.ResourceOptions(parent=self, provider=p, ignore_changes=["tags"],
                                                   aliases=[pulumi.Alias(name="old-s")]))
        self.register_outputs({})

Box("b")
pulumi.export("answer", 42)
'''


def test_set_mocks_still_takes_a_monitor_and_register_resource_gets_the_request():
    assert "monitor" in inspect.signature(sdk_mocks.set_mocks).parameters
    assert "request" in inspect.signature(sdk_mocks.MockMonitor.RegisterResource).parameters


def test_recorder_sees_parent_provider_dependencies_protect_and_options(tmp_path):
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "Pulumi.t.yaml").write_text("config: {}\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    for _ in range(2):  # twice in one process: the second run must see a fresh Stack
        cap = run_program(tmp_path, load_stack_file(tmp_path, "t"))
        by_name = {r.name: r for r in cap.registrations.values()}
        assert set(by_name) == {"probe-t", "b", "p", "v", "s"}
        box, vpc, sub = by_name["b"], by_name["v"], by_name["s"]
        assert box.parent == by_name["probe-t"].urn
        assert vpc.parent == box.urn and vpc.protect is True
        assert vpc.provider.startswith(by_name["p"].urn + "::")
        assert sub.dependencies == [vpc.urn] and sub.property_dependencies["vpcId"] == [vpc.urn]
        assert sub.options["ignoreChanges"] == ["tags"]
        assert sub.options["aliases"] == [sub.urn.rsplit("::", 1)[0] + "::old-s"]
        assert sub.inputs["vpcId"] == vpc.id and vpc.id.startswith("vpc-")
        assert vpc.outputs["arn"].startswith("arn:aws:ec2:eu-west-1:")

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


# -- the fast path (tools.offline.sdk_fast_path, tools.cli.exit_fast) ---------------------------
def test_register_resource_still_takes_its_stack_trace_from_the_patched_helper():
    """sdk_fast_path replaces pulumi.runtime.resource._get_stack_trace; if the SDK stops calling
    it by that name, the patch would silently do nothing."""
    from pulumi.runtime import resource as sdk_resource
    assert "_get_stack_trace()" in inspect.getsource(sdk_resource.register_resource)


def _runtime_state():
    import gc

    from pulumi.runtime import resource as sdk_resource
    return gc.isenabled(), gc.get_freeze_count(), sdk_resource._get_stack_trace


def test_fast_path_leaves_nothing_behind_after_a_run_or_a_failing_run(tmp_path):
    import gc

    from tools.offline import ProgramError
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "Pulumi.t.yaml").write_text("config: {}\n")
    before = _runtime_state()
    assert before[0] and before[1] == 0, "the suite must start with a live, unfrozen collector"
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM))
    cap = run_program(tmp_path, load_stack_file(tmp_path, "t"))
    assert cap.registrations and _runtime_state() == before
    (tmp_path / "__main__.py").write_text(
        "import gc, pulumi\nseen = (gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "open('seen.txt', 'w').write(repr(seen))\nraise pulumi.RunError('bad config')\n")
    try:
        run_program(tmp_path, load_stack_file(tmp_path, "t"))
        raise AssertionError("a RunError must reach the caller as ProgramError")
    except ProgramError as err:
        assert "bad config" in str(err)
    seen = (tmp_path / "seen.txt").read_text()
    assert seen == "(False, True)", f"during the run the collector is off and the heap frozen, saw {seen}"
    assert _runtime_state() == before
    assert gc.isenabled()


def test_importing_the_clis_does_not_touch_the_collector():
    import gc
    import importlib

    for name in ("tools.preview", "tools.policy_check"):
        importlib.reload(importlib.import_module(name))
        assert gc.isenabled(), f"importing {name} disabled the collector"


def test_exit_fast_flushes_what_was_printed_and_keeps_the_exit_code(tmp_path):
    import subprocess
    import sys
    code = ("import sys\nfrom tools.cli import exit_fast\nprint('x' * 100000, end='')\n"
            "print('done', file=sys.stderr, end='')\nexit_fast(3)\n")
    proc = subprocess.run([sys.executable, "-c", code],
                          capture_output=True, text=True, env={"PYTHONPATH": str(_project_dir())})
    assert proc.returncode == 3
    assert proc.stdout == "x" * 100000 and proc.stderr == "done"


def _project_dir():
    from pathlib import Path
    return Path(__file__).resolve().parent.parent


FAILING_PROGRAM = '''
import pulumi, pulumi_aws as aws

def refuse(_):
    raise pulumi.RunError("no zones here")

p = aws.Provider("p", region="eu-west-1")
vpc = aws.ec2.Vpc("v", cidr_block="10.0.0.0/16", opts=pulumi.ResourceOptions(provider=p))
zone = vpc.id.apply(refuse)
for i in range(5):
    aws.ec2.Subnet(f"s{i}", vpc_id=vpc.id, cidr_block=f"10.0.{i}.0/24", availability_zone=zone,
                   opts=pulumi.ResourceOptions(provider=p))
'''


def test_a_failed_run_logs_nothing_later(tmp_path):
    """A RunError leaves SDK futures holding it; they must be freed with the failed run, not log
    'Future exception was never retrieved' during some later run or at the end of a session."""
    import gc
    import logging

    from tools.offline import ProgramError
    for name, program in (("bad", FAILING_PROGRAM), ("good", PROGRAM)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
        (tmp_path / name / "Pulumi.t.yaml").write_text("config: {}\n")
        (tmp_path / name / "__main__.py").write_text(textwrap.dedent(program))
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append
    logging.getLogger("asyncio").addHandler(handler)
    try:
        try:
            run_program(tmp_path / "bad", load_stack_file(tmp_path / "bad", "t"))
            raise AssertionError("the RunError must reach the caller")
        except ProgramError as err:
            assert "no zones here" in str(err)
        run_program(tmp_path / "good", load_stack_file(tmp_path / "good", "t"))
        gc.collect()
    finally:
        logging.getLogger("asyncio").removeHandler(handler)
    assert not [r.getMessage() for r in seen]

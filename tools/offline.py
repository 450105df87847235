"""Run the real program (``__main__.py``) under Pulumi's mock runtime and record every
registration as the engine would see it.

SDK internals used here (pinned in requirements.txt; tests/test_offline_runtime.py
fails if they change): ``MockMonitor.RegisterResource`` receives the full
``RegisterResourceRequest`` (parent, dependencies, protect, provider, ...), which
``Mocks.new_resource`` does not; ``set_mocks`` takes a custom monitor; the program is
awaited with ``run_pulumi_func`` under ``_sync_await``, as ``pulumi.runtime.test`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import json
import logging
import os
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml
from google.protobuf import json_format

from tools.mocks import AwsLikeMocks

SECRET_PLACEHOLDER = "offline-preview-secret"


class OfflineError(Exception):
    """Bad input to the offline tools: one clear message, no traceback."""


# -- stack files ---------------------------------------------------------------------------
@dataclass(frozen=True)
class StackFile:
    project: str
    stack: str
    path: Path
    engine_config: dict[str, str]  # "ns:key" -> value as the engine passes it (strings, JSON for objects)
    secret_keys: tuple[str, ...]


def _engine_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def read_project_name(project_dir: Path) -> str:
    path = project_dir / "Pulumi.yaml"
    try:
        doc = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise OfflineError(f"{path}: not found (is --project-dir the project root?)") from None
    except yaml.YAMLError as err:
        raise OfflineError(f"{path}: not valid YAML ({err.__class__.__name__})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
        raise OfflineError(f"{path}: needs a top-level 'name'")
    return doc["name"]


def load_stack_file(project_dir: Path, stack: str, path: Optional[Path] = None) -> StackFile:
    """Read Pulumi.<stack>.yaml (or ``path``) into the flat string map the engine hands a program."""
    project = read_project_name(project_dir)
    if path is not None:
        if not Path(path).is_file():
            raise OfflineError(f"{path}: stack file not found")
    elif not stack or "/" in stack or not (project_dir / f"Pulumi.{stack}.yaml").is_file():
        path = project_dir / f"Pulumi.{stack}.yaml"
        known = sorted(p.name[len("Pulumi."):-len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise OfflineError(f"unknown stack '{stack}': no {path.name} in {project_dir} (stacks here: {', '.join(known) or 'none'})")
    else:
        path = project_dir / f"Pulumi.{stack}.yaml"
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise OfflineError(f"{path.name}: not valid YAML{where}: {getattr(err, 'problem', err)}") from None
    config = doc.get("config", {}) if isinstance(doc, dict) else None
    if not isinstance(config, dict):
        raise OfflineError(f"{path.name}: 'config' must be a mapping of 'namespace:key' to values")
    engine: dict[str, str] = {}
    secrets = []
    for key, value in config.items():
        key = str(key)
        if ":" not in key:
            key = f"{project}:{key}"  # the CLI does the same for bare keys
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Ciphertext needs the stack's secrets provider; offline we substitute a marked value.
            engine[key] = SECRET_PLACEHOLDER
            secrets.append(key)
        else:
            engine[key] = _engine_string(value)
    return StackFile(project, stack, path, engine, tuple(sorted(secrets)))


# -- recording -----------------------------------------------------------------------------
SIG_KEY = "4dabf18193072939515e22adb298388d"
SIG_RESOURCE = "5cf8f73096256a8f31e491e813e4eb8e"
SIG_SECRET = "1b47061264138c4ac30d75fd1eb44270"
SIG_OUTPUT = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
SIG_ASSET = "c44067f5952c0a294b673a41bacd8c17"
SIG_ARCHIVE = "0def7320c3a5731c473e5ecbe6d01bc7"


def plain(value: Any, reveal: bool = False) -> Any:
    """Turn wire values into what the engine shows a policy pack or a preview reader:
    a resource reference becomes its id (custom) or URN (component), an output value its
    value, a secret '[secret]' (its value with ``reveal``, for tests only)."""
    if isinstance(value, dict):
        sig = value.get(SIG_KEY)
        if sig == SIG_RESOURCE:
            return value.get("id") or value.get("urn")
        if sig == SIG_SECRET:
            return plain(value.get("value"), reveal) if reveal else "[secret]"
        if sig == SIG_OUTPUT:
            if value.get("secret") and not reveal:
                return "[secret]"
            return plain(value.get("value"), reveal)
        if sig in (SIG_ASSET, SIG_ARCHIVE):
            return {k: plain(v, reveal) for k, v in value.items() if k != SIG_KEY}
        return {k: plain(v, reveal) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, reveal) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    inputs: dict
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    protect: bool
    options: dict  # ignoreChanges, aliases, retainOnDelete, deleteBeforeReplace, ...
    id: str = ""
    providers: dict = field(default_factory=dict)  # package -> provider ref (remote components)
    wire: dict = field(default_factory=dict, repr=False)  # inputs as registered, secrets still wrapped
    import_id: str = ""  # the `import` option: adopt the existing resource with this id

    @functools.cached_property
    def revealed(self) -> dict:
        """Inputs with secrets in clear: for tests only, never written, computed on first use."""
        return plain(self.wire, reveal=True)
    outputs: dict = field(default_factory=dict)


def _build_recorder_class():
    from pulumi.runtime.mocks import MockMonitor

    class RecordingMonitor(MockMonitor):
        """The SDK's mock monitor, plus a record of each full RegisterResourceRequest."""

        def __init__(self, mocks: AwsLikeMocks):
            super().__init__(mocks)
            self.registrations: dict[str, Registration] = {}

        def RegisterResource(self, request):
            request = self._run_stack_transforms(request)
            self.mocks.current.providers = dict(request.providers)
            try:
                response = super().RegisterResource(request)
            finally:
                self.mocks.current.providers = None
            urn = response.urn
            wire = json_format.MessageToDict(request.object) if request.object else {}
            inputs = plain(wire)
            outputs = plain(json_format.MessageToDict(response.object)) if response.object else {}
            if request.type.startswith("pulumi:providers:") and isinstance(inputs.get("region"), str):
                self.mocks.region_of_provider[urn] = inputs["region"]
            if request.type.startswith("pulumi:providers:") and inputs.get("assumeRoles"):
                roles = inputs["assumeRoles"]
                roles = json.loads(roles) if isinstance(roles, str) else roles
                arn = (roles[0] or {}).get("roleArn", "") if roles else ""
                if arn.count(":") >= 5:
                    self.mocks.account_of_provider[urn] = arn.split(":")[4]
            prop_deps = {k: sorted(v.urns) for k, v in request.propertyDependencies.items()}
            options = {
                "ignoreChanges": list(request.ignoreChanges),
                "retainOnDelete": bool(request.retainOnDelete) if request.HasField("retainOnDelete") else False,
                "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                "replaceOnChanges": list(request.replaceOnChanges),
                "additionalSecretOutputs": list(request.additionalSecretOutputs),
                "aliases": sorted({self._alias_urn(request, a) for a in request.aliases} | set(request.aliasURNs)),
                "customTimeouts": json_format.MessageToDict(request.customTimeouts) if request.HasField("customTimeouts") else {},
            }
            self.registrations[urn] = Registration(
                urn=urn, type=request.type, name=request.name, custom=bool(request.custom),
                parent=request.parent, provider=request.provider, providers=dict(request.providers),
                inputs=inputs, dependencies=sorted(set(request.dependencies)),
                property_dependencies=prop_deps,
                protect=bool(request.protect) if request.HasField("protect") else False,
                options=options, id=response.id if request.custom else "", outputs=outputs,
                wire=wire, import_id=request.importId,
            )
            return response

        def _run_stack_transforms(self, request):
            """What the engine does with stack transforms (registered with
            ``pulumi.runtime.register_resource_transform``) and the SDK's mock monitor does not:
            call each, in registration order, with the resource's type, name, custom flag, inputs
            and options, and register the resource with the options it returns. Applied here:
            ``import`` and ``protect`` (the options a transform of this program may set); a
            transform that changes inputs or other options is not mirrored offline."""
            transforms = self.get_registered_transforms()
            if not transforms or request.type == "pulumi:pulumi:Stack":
                return request
            import pulumi
            from pulumi.runtime import rpc
            from pulumi.runtime.sync_await import _ensure_event_loop

            _ensure_event_loop()
            opts = pulumi.ResourceOptions(import_=request.importId or None,
                                          protect=request.protect if request.HasField("protect") else None)
            props = rpc.deserialize_properties(request.object) if request.object else {}
            changed = False
            for transform in transforms:
                result = transform(pulumi.ResourceTransformArgs(
                    custom=bool(request.custom), type_=request.type, name=request.name, props=props, opts=opts))
                if result is not None:
                    props, opts, changed = result.props, result.opts, True
            if not changed:
                return request
            out = type(request)()
            out.CopyFrom(request)
            out.importId = opts.import_ or ""
            if opts.protect is not None:
                out.protect = bool(opts.protect)
            return out

        @staticmethod
        def _alias_urn(request, alias) -> str:
            """An alias as the engine stores it in state: the URN the resource used to have."""
            if alias.urn:
                return alias.urn
            from pulumi.runtime.settings import get_project, get_stack
            spec = alias.spec
            parent = "" if spec.noParent else (spec.parentUrn or request.parent)
            typ = spec.type or request.type
            if parent:  # the same rule as MockMonitor.make_urn: parent's own type, then ours
                typ = parent.split("::")[2].split("$")[-1] + "$" + typ
            return "urn:pulumi:" + "::".join([spec.stack or get_stack(), spec.project or get_project(),
                                             typ, spec.name or request.name])

    return RecordingMonitor


class _DiagnosticsHandler(logging.Handler):
    """Keeps warnings and errors as preview diagnostics. Its logger is set to WARNING, so the
    SDK's debug messages (about four per registration) never become log records at all."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            severity = "error" if record.levelno >= logging.ERROR else "warning"
            self.records.append({"message": record.getMessage(), "severity": severity})


@dataclass
class Capture:
    project: str
    stack: str
    registrations: dict[str, Registration]
    diagnostics: list[dict]
    stack_outputs: dict[str, Any]
    config: dict[str, str]
    secret_keys: tuple[str, ...]


class ProgramError(Exception):
    """The program failed under the mocks with a RunError (bad config, or a region that cannot
    hold the plan). ``registrations`` says what had been registered by then."""

    def __init__(self, message: str, registrations: Optional[dict] = None):
        super().__init__(message)
        self.registrations = registrations or {}


def _no_stack_trace():
    from pulumi.runtime.proto import source_pb2
    return source_pb2.StackTrace()


@contextlib.contextmanager
def sdk_fast_path():
    """What a mocked run does not need, switched off for its duration only and restored after,
    so nothing leaks into code that imports the tools (pytest included):

    - the cyclic collector: almost nothing a registration makes is garbage, yet each full
      collection rescans every object imported and registered so far (5 full passes for one
      region, 15 for sixteen: the reason ms/resource grew with the stack). Objects that exist
      before the run are frozen (never scanned again), the collector is off during it;
    - the SDK's stack trace per registration (``pulumi.runtime.resource._get_stack_trace``,
      18-29 frames, each with a file stat): it only feeds ``sourcePosition``, which the engine
      shows in its UI and the recorder never reads.
    """
    from pulumi.runtime import resource as sdk_resource

    enabled = gc.isenabled()
    saved = sdk_resource._get_stack_trace
    gc.freeze()
    gc.disable()
    sdk_resource._get_stack_trace = _no_stack_trace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = saved
        gc.unfreeze()
        if enabled:
            gc.enable()


class _SameRunError(logging.Filter):
    """Drops asyncio's 'exception was never retrieved' for the RunError already reported."""

    def __init__(self, message: str):
        super().__init__()
        self.message = message

    def filter(self, record: logging.LogRecord) -> bool:
        import pulumi
        exc = record.exc_info[1] if record.exc_info else None
        return not (isinstance(exc, pulumi.RunError) and str(exc) == self.message)


def _collect_failed_run(message: str) -> None:
    """A program that raised RunError leaves SDK futures holding that same error, which nobody
    will retrieve: the run is over and the error is reported as ProgramError. With the
    collector off during the run they would be freed at some random later point (at the end
    of a pytest session, say) and log a stray 'Future exception was never retrieved'; free them
    now, while their message is known to repeat the error the caller gets."""
    from pulumi.runtime import settings as rt_settings

    asyncio_logger = logging.getLogger("asyncio")
    same = _SameRunError(message)
    asyncio_logger.addFilter(same)
    try:
        # What the next run would reset anyway: the SDK's record of pending RPCs and outputs.
        rt_settings.SETTINGS.rpc_manager.clear()
        rt_settings.SETTINGS.outputs.clear()
        gc.collect()
    finally:
        asyncio_logger.removeFilter(same)


def run_program(project_dir: Path, stack_file: StackFile) -> Capture:
    """Execute ``__main__.py`` of ``project_dir`` under the mock runtime."""
    import pulumi
    from pulumi.runtime import settings as rt_settings
    from pulumi.runtime.mocks import set_mocks
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    mocks = AwsLikeMocks(stack_file.project, stack_file.stack)
    monitor = _build_recorder_class()(mocks)
    handler = _DiagnosticsHandler()
    logger = logging.getLogger(f"global-platform.offline.{stack_file.stack}")
    logger.propagate = False
    logger.handlers = [handler]
    logger.setLevel(logging.WARNING)

    pulumi.runtime.set_all_config(dict(stack_file.engine_config), list(stack_file.secret_keys))
    rt_settings.ROOT.set(None)  # a fresh Stack resource per run, also when run twice in one process
    set_mocks(mocks, project=stack_file.project, stack=stack_file.stack, preview=True,
              logger=logger, monitor=monitor)
    rt_settings.SETTINGS.rpc_manager.clear()
    rt_settings.SETTINGS.outputs.clear()

    main = project_dir / "__main__.py"
    added = str(project_dir) not in sys.path
    if added:
        sys.path.insert(0, str(project_dir))
    cwd = os.getcwd()
    os.chdir(project_dir)
    outputs: dict[str, Any] = {}

    async def program() -> None:
        runpy.run_path(str(main), run_name="__main__")
        # Stack exports: the mock root Stack is already finished, so resolve them here.
        root = rt_settings.get_root_resource()
        exported = dict(getattr(root, "outputs", {}) or {})
        if exported:
            outputs.update(await pulumi.Output.from_input(exported).future() or {})

    failure: Optional[ProgramError] = None
    try:
        with sdk_fast_path():
            _sync_await(run_pulumi_func(program))
    except pulumi.RunError as err:
        failure = ProgramError(str(err), dict(monitor.registrations))
    finally:
        os.chdir(cwd)
        if added:
            sys.path.remove(str(project_dir))
    if failure is not None:  # outside the except block: its traceback no longer holds the futures
        _collect_failed_run(str(failure))
        raise failure
    return Capture(
        project=stack_file.project, stack=stack_file.stack,
        registrations=dict(monitor.registrations), diagnostics=handler.records,
        stack_outputs=plain(outputs),
        config={k: ("[secret]" if k in stack_file.secret_keys else v) for k, v in stack_file.engine_config.items()},
        secret_keys=stack_file.secret_keys,
    )


def shutdown_event_loop() -> None:
    """Close the SDK's event loop so the interpreter exits without asyncio noise."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return
    if loop.is_closed():
        return
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()

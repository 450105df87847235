"""The README's stack config reference is generated from the config models: every key is
described, what the README says is what the models say, and a stale README fails `make test`."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from components.config import StackConfig
from tests.helpers import run_tool
from tools import config_docs
from tools.config_docs import BEGIN, END, README, default_text, fields, render, sections, splice, type_text


def _models(model: type[BaseModel], seen: dict[str, type[BaseModel]]) -> dict[str, type[BaseModel]]:
    """Every model reachable from ``model`` through its fields."""
    seen[model.__name__] = model
    for field in model.model_fields.values():
        nested, _ = config_docs._model_of(field.annotation)
        if nested is not None and nested.__name__ not in seen:
            _models(nested, seen)
    return seen


MODELS = _models(StackConfig, {})


def test_every_section_model_is_reached():
    assert {"RegionSpec", "NetworkSpec", "ConnectivitySpec", "VpnSpec", "DirectConnectSpec", "ProxySpec",
            "ClusterSpec", "NodeGroupSpec", "AddonVersions", "GitOpsSpec", "SsoSpec", "SloSpec", "ChaosSpec",
            "TargetSelection", "GameDaySpec", "ScalingSpec", "ScheduleSpec", "WafSpec"} <= set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_field_has_a_description(name):
    model = MODELS[name]
    missing = [f.alias or n for n, f in model.model_fields.items() if not (f.description or "").strip()]
    assert not missing, f"{name}: fields without Field(description=...): {missing}"


def _cells(row: str) -> list[str]:
    inner = row.strip()[1:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", inner)]


def _parse(block: str) -> dict[str, dict[str, list[str]]]:
    """The generated block read back: heading -> key -> [type, default, description]."""
    tables: dict[str, dict[str, list[str]]] = {}
    heading = None
    for line in block.splitlines():
        if line.startswith("### "):
            heading = line[4:]
            tables[heading] = {}
        elif line.startswith("| `") and heading is not None:
            key, *rest = _cells(line)
            assert key.strip("`") not in tables[heading], f"{heading}: {key} twice"
            tables[heading][key.strip("`")] = rest
    return tables


def _expected(key: str, field) -> list[str]:
    shown = config_docs._overrides(field)
    return [" ".join(text.split()) for text in (shown.get("type") or type_text(field.annotation, field.metadata),
                                                 shown.get("default") or default_text(field),
                                                 field.description or "")]


def test_generated_tables_read_back_as_the_models():
    tables = _parse(render())
    top = {(f.alias or n): f for n, f in StackConfig.model_fields.items()}
    assert tables["Top level"] == {k: _expected(k, f) for k, f in top.items()}
    assert len(tables) == 1 + len(sections())
    for key, _, model, as_list in sections():
        heading = next(h for h in tables if h.startswith(f"`{key}[]`" if as_list else f"`{key}`"))
        assert tables[heading] == {k: _expected(k, f) for k, f in fields(model)}, heading
        doc = model.__dict__.get("__doc__")
        if doc:
            assert " ".join(doc.split()) in " ".join(render().split())


def test_nested_keys_are_dotted_as_users_write_them():
    tables = _parse(render())
    assert "onPrem[].vpn.bgpAsn" in tables["`connectivity`"]
    assert "argocd.sso.clientId" in tables["`gitops`"]
    assert "nodeGroups[].desiredSize" in tables["`cluster`"]
    assert tables["`cluster`"]["addons.coredns"][1] == "`v1.14.3-eksbuild.3`"
    assert tables["`network`"]["natGateways"][1].startswith("`perAz` in prod")


def test_splice_round_trips():
    generated = render()
    text = f"intro\n{BEGIN}\nold text\n{END}\noutro\n"
    once = splice(text, generated)
    assert once == f"intro\n{BEGIN}\n{generated}{END}\noutro\n"
    assert splice(once, generated) == once
    assert once.split(BEGIN, 1)[1].split(END, 1)[0] == "\n" + generated


def test_readme_is_up_to_date():
    text = README.read_text()
    assert splice(text, render()) == text, "README.md is stale: run `python -m tools.config_docs`"


def test_check_fails_on_a_stale_readme_and_names_the_file(tmp_path):
    stale = tmp_path / "README.md"
    text = README.read_text()
    row = "| `peering` |"
    assert row in text
    stale.write_text(text.replace(row, "| `peerings` |", 1))
    proc = run_tool("tools.config_docs", "--check", "--readme", stale, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert str(stale) in proc.stderr and "out of date" in proc.stderr
    assert "run `python -m tools.config_docs`" in proc.stderr
    assert stale.read_text() != text, "--check never writes"


def test_check_passes_and_write_repairs(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(splice(README.read_text(), "stale\n"))
    assert config_docs.main(["--check", "--readme", str(readme)]) == 1
    assert config_docs.main(["--readme", str(readme)]) == 0
    assert config_docs.main(["--check", "--readme", str(readme)]) == 0
    assert "up to date" in capsys.readouterr().out


@pytest.mark.parametrize("text, needle", [
    ("no markers at all\n", "needs exactly one"),
    (f"{BEGIN}\n{BEGIN}\n{END}\n", "needs exactly one"),
    (f"{END}\n{BEGIN}\n", "comes before"),
])
def test_missing_or_broken_markers_are_refused(tmp_path, capsys, text, needle):
    readme = tmp_path / "README.md"
    readme.write_text(text)
    assert config_docs.main(["--check", "--readme", str(readme)]) == 2
    err = capsys.readouterr().err
    assert needle in err and str(readme) in err
    assert readme.read_text() == text

"""Input property names of pulumi-aws resources, read from the installed Python SDK's source.

The SDK is generated from the provider's Pulumi schema, so its `XArgs` classes carry the schema's
property names (`@pulumi.getter(name="vpcConfig")`) and, for nested objects, the input type
(`pulumi.Input['ClusterVpcConfigArgs']`). That is what the bridge made of each Terraform attribute
(renames, pluralized list names, max-items-one flattening), without importing the SDK.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

_ARGS_REF = re.compile(r"^(?:_(\w+)\.)?(\w+Args)$")


@dataclass(frozen=True)
class Prop:
    pulumi: str  # schema (camelCase) name
    nested: tuple[str, str] | None  # (module dir, Args class) of a nested object input


class SdkNames:
    def __init__(self, sdk_dir: str | Path):
        self.root = Path(sdk_dir)
        self._classes: dict[tuple[str, str], dict[str, Prop]] = {}
        self._parsed: set[Path] = set()
        self._token_file: dict[str, tuple[str, str]] = {}

    def version(self) -> str:
        import json
        return json.loads((self.root / "pulumi-plugin.json").read_text())["version"]

    def _parse(self, path: Path, module: str) -> None:
        if path in self._parsed or not path.exists():
            return
        self._parsed.add(path)
        tree = ast.parse(path.read_text())
        for cls in tree.body:
            if not (isinstance(cls, ast.ClassDef) and cls.name.endswith("Args")):
                continue
            props: dict[str, Prop] = {}
            for fn in cls.body:
                if not isinstance(fn, ast.FunctionDef):
                    continue
                name = None
                for dec in fn.decorator_list:
                    target = dec.func if isinstance(dec, ast.Call) else dec
                    if ast.unparse(target) == "pulumi.getter":
                        name = fn.name
                        if isinstance(dec, ast.Call):
                            for kw in dec.keywords:
                                if kw.arg == "name":
                                    name = kw.value.value
                if name is None:
                    continue
                nested = None
                for node in ast.walk(fn.returns) if fn.returns is not None else ():
                    if isinstance(node, ast.Constant) and isinstance(node.value, str):
                        m = _ARGS_REF.match(node.value)
                        if m:
                            nested = (m.group(1) or module, m.group(2))
                props[fn.name] = Prop(name, nested)
            self._classes[(module, cls.name)] = props

    def resource_args(self, token: str) -> tuple[str, str] | None:
        """(module dir, Args class) of a resource token such as aws:ec2/vpc:Vpc."""
        if token in self._token_file:
            return self._token_file[token]
        mod = token.split(":")[1].split("/")[0]
        mod_dir = mod + "_" if (self.root / (mod + "_")).is_dir() else mod
        name = token.split(":")[2]
        for path in sorted((self.root / mod_dir).glob("*.py")):
            text = path.read_text()
            if f"'{token}'" in text or f'"{token}"' in text:
                self._parse(path, mod_dir)
                # Where `<Name>Args` is already an input type of the package (s3's
                # BucketVersioningArgs is the legacy Bucket's block), the resource's is `<Name>InitArgs`.
                for key in ((mod_dir, f"{name}InitArgs"), (mod_dir, f"{name}Args")):
                    if key in self._classes:
                        self._token_file[token] = key
                        return key
        return None

    def props(self, cls: tuple[str, str]) -> dict[str, Prop]:
        """Python attribute name -> Prop for an Args class."""
        if cls not in self._classes:
            self._parse(self.root / cls[0] / "_inputs.py", cls[0])
        return self._classes.get(cls, {})


def plural_candidates(name: str) -> list[str]:
    """The bridge names a list-typed Terraform attribute in the plural (`rule` -> `rules`)."""
    out = [name + "s"]
    if name.endswith("y") and not name.endswith(("ay", "ey", "oy", "uy")):
        out.append(name[:-1] + "ies")
    if name.endswith(("s", "x", "ch", "sh")):
        out.append(name + "es")
    return out

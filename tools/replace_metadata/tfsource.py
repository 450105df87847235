"""Reading terraform-provider-aws Go source out of a git directory, in one of two layouts.

* ``index``: a checkout of lonegunmanb/terraform-provider-aws-index, whose tag ``vX.Y.Z`` holds,
  per terraform-provider-aws release, one file per Go declaration
  (``index/internal/service/ec2/func.resourceVPC.goindex``: the package clause, the declaring
  file's imports, then the declaration verbatim).
* ``checkout``: a clone of hashicorp/terraform-provider-aws itself (``internal/service/ec2/*.go``).

Both answer the same questions: where is function/method/var/type NAME of package DIR, with which
imports. Everything is read with ``git cat-file`` from a ref, so no work tree is needed.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tools.replace_metadata import goparse

MODULE = "github.com/hashicorp/terraform-provider-aws/"


@dataclass(frozen=True)
class Decl:
    text: str  # the declaration's source
    imports: dict  # alias -> import path, of the declaring file
    path: str  # file inside the repository
    pkg: str  # package directory, e.g. internal/service/ec2


class GitTree:
    def __init__(self, git_dir: str | Path, ref: str):
        self.git_dir = str(git_dir)
        self.ref = ref
        self.commit = self._git("rev-parse", f"{ref}^{{commit}}").strip()
        self.commit_date = self._git("log", "-1", "--format=%cI", self.commit).strip()
        self._proc = None
        self._cache: dict[str, str | None] = {}

    def _git(self, *args: str) -> str:
        return subprocess.run(["git", "--git-dir", self.git_dir, *args], check=True, capture_output=True,
                              text=True).stdout

    def list(self, prefix: str) -> list[str]:
        out = self._git("ls-tree", "-r", "--name-only", self.commit, "--", prefix)
        return [p for p in out.splitlines() if p]

    def read(self, path: str) -> str | None:
        if path in self._cache:
            return self._cache[path]
        if self._proc is None:
            self._proc = subprocess.Popen(["git", "--git-dir", self.git_dir, "cat-file", "--batch"],
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._proc.stdin.write(f"{self.commit}:{path}\n".encode())
        self._proc.stdin.flush()
        header = self._proc.stdout.readline().decode()
        if header.endswith("missing\n"):
            self._cache[path] = None
            return None
        size = int(header.split()[2])
        data = self._proc.stdout.read(size + 1)[:-1].decode("utf-8", "replace")
        self._cache[path] = data
        return data

    def close(self) -> None:
        if self._proc is not None:
            self._proc.stdin.close()
            self._proc.wait()
            self._proc = None


class IndexSource:
    layout = "index"

    def __init__(self, git_dir: str | Path, ref: str):
        self.tree = GitTree(git_dir, ref)
        self._names = set(self.tree.list("index/internal"))

    def version(self) -> str | None:
        text = self.tree.read("index/terraform-provider-aws-index.json")
        m = re.search(r'"version"\s*:\s*"([^"]+)"', text or "")
        return m.group(1) if m else None

    def service_dirs(self) -> list[str]:
        dirs = {p.split("/")[3] for p in self._names if p.startswith("index/internal/service/")}
        return sorted(f"internal/service/{d}" for d in dirs)

    def _decl(self, pkg: str, fname: str) -> Decl | None:
        path = f"index/{pkg}/{fname}.goindex"
        if path not in self._names:
            return None
        text = self.tree.read(path)
        return Decl(text=text, imports=goparse.imports(text), path=path, pkg=pkg)

    def func(self, pkg: str, name: str) -> Decl | None:
        return self._decl(pkg, f"func.{name}")

    def method(self, pkg: str, recv: str, name: str) -> Decl | None:
        return self._decl(pkg, f"method.{recv}.{name}")

    def var(self, pkg: str, name: str) -> Decl | None:
        return self._decl(pkg, f"var.{name}")

    def type(self, pkg: str, name: str) -> Decl | None:
        return self._decl(pkg, f"type.{name}")


class CheckoutSource:
    layout = "checkout"

    def __init__(self, git_dir: str | Path, ref: str):
        self.tree = GitTree(git_dir, ref)
        self._files: dict[str, list[str]] = {}
        for p in self.tree.list("internal"):
            if p.endswith(".go") and not p.endswith("_test.go"):
                self._files.setdefault(p.rsplit("/", 1)[0], []).append(p)

    def version(self) -> str | None:
        text = self.tree.read("version/VERSION")
        return text.strip() if text else None

    def service_dirs(self) -> list[str]:
        return sorted(d for d in self._files if d.startswith("internal/service/") and d.count("/") == 2)

    def _find(self, pkg: str, finder) -> Decl | None:
        for path in sorted(self._files.get(pkg, [])):
            text = self.tree.read(path)
            found = finder(text)
            if found:
                return Decl(text=found, imports=goparse.imports(text), path=path, pkg=pkg)
        return None

    def func(self, pkg: str, name: str) -> Decl | None:
        return self._find(pkg, lambda t: goparse.func_source(t, name) if f"func {name}" in t else None)

    def method(self, pkg: str, recv: str, name: str) -> Decl | None:
        return self._find(pkg, lambda t: goparse.func_source(t, name, recv) if f") {name}(" in t else None)

    def var(self, pkg: str, name: str) -> Decl | None:
        return self._find(pkg, lambda t: goparse.var_source(t, name) if name in t else None)

    def type(self, pkg: str, name: str) -> Decl | None:
        def finder(t: str):
            m = re.search(r"^type\s+" + re.escape(name) + r"\b.*?^}", t, re.S | re.M)
            return m.group() if m else None
        return self._find(pkg, finder)


def open_source(git_dir: str | Path, ref: str):
    tree = GitTree(git_dir, ref)
    layout = IndexSource if tree.list("index/terraform-provider-aws-index.json") else CheckoutSource
    tree.close()
    return layout(git_dir, ref)

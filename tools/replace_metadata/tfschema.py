"""Which attributes of a terraform-provider-aws resource force a replacement, read from its Go source.

SDKv2 resources: `ForceNew: true` on an attribute (at any nesting depth, `Elem: &schema.Resource{...}`
blocks included), plus `ForceNew(...)` calls and `customdiff.ForceNewIf*` in the resource's
`CustomizeDiff` (value-dependent, reported as conditional).
Plugin-framework resources: `RequiresReplace()` / `RequiresReplaceIfConfigured()` plan modifiers
(any nesting depth), other `RequiresReplace*` modifiers and `RequiresReplace` set in `ModifyPlan`
(conditional).

Everything follows references the way the Go compiler would: local variables, same-package
functions and vars, other provider packages through the declaring file's imports. What cannot be
followed is recorded in `unresolved` and contributes nothing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from tools.replace_metadata import goparse as gp
from tools.replace_metadata.tfsource import MODULE, Decl

_UNCONDITIONAL_MODIFIERS = {"RequiresReplace", "RequiresReplaceIfConfigured"}


@dataclass
class Ctx:
    pkg: str
    imports: dict
    path: str
    locals: dict = field(default_factory=dict)  # name -> (Node, Ctx)


@dataclass
class Attr:
    input: bool
    force: bool
    where: str
    block: bool = False


@dataclass
class Extracted:
    tf_type: str
    kind: str  # sdk | framework
    schema_decl: str  # where the schema was read
    regional: bool | None
    attrs: dict = field(default_factory=dict)  # tuple path -> Attr
    conditional: dict = field(default_factory=dict)  # tuple path -> reason
    unresolved: list = field(default_factory=list)


@dataclass
class Registration:
    tf_type: str
    kind: str
    factory: str
    pkg: str
    regional: bool | None
    where: str


def load_attr_names(csv_path) -> dict:
    """names.AttrXxx constant -> attribute name, from names/attr_constants.csv (snake,Camel)."""
    out = {}
    with open(csv_path, newline="") as fh:
        for row in csv.reader(fh):
            if len(row) >= 2:
                out["Attr" + row[1].strip()] = row[0].strip()
    return out


class Extractor:
    def __init__(self, source, attr_names: dict):
        self.src = source
        self.attr_names = attr_names
        self._registry: dict[str, Registration] | None = None

    # ---- registrations (service_package_gen.go: SDKResources / FrameworkResources) -------------
    def registry(self) -> dict[str, Registration]:
        if self._registry is not None:
            return self._registry
        reg: dict[str, Registration] = {}
        for pkg in self.src.service_dirs():
            for method, kind in (("SDKResources", "sdk"), ("FrameworkResources", "framework")):
                decl = self.src.method(pkg, "servicePackage", method)
                if decl is None:
                    continue
                for ret in gp.returns(gp.body_tokens(decl.text)):
                    if not isinstance(ret, gp.Composite):
                        continue
                    for _, elem in ret.elems:
                        if isinstance(elem, gp.Unary):
                            elem = elem.operand
                        if not isinstance(elem, gp.Composite):
                            continue
                        f = elem.fields()
                        tn, fac = f.get("TypeName"), f.get("Factory")
                        if not (isinstance(tn, gp.Lit) and isinstance(fac, gp.Name)):
                            continue
                        region = f.get("Region")
                        regional = None
                        if isinstance(region, gp.Call):
                            regional = {"ResourceRegionDefault": True, "ResourceRegionDisabled": False}.get(
                                region.func_name.split(".")[-1])
                        reg[tn.value] = Registration(tn.value, kind, fac.dotted, pkg, regional,
                                                     f"{decl.path}:{elem.line}")
        self._registry = reg
        return reg

    # ---- reference following --------------------------------------------------------------------
    def _decl_ctx(self, decl: Decl, body: list | None = None) -> Ctx:
        ctx = Ctx(pkg=decl.pkg, imports=decl.imports, path=decl.path)
        if body is not None:
            ctx.locals = {k: (v, ctx) for k, v in gp.assignments(body).items()}
        return ctx

    def _other_pkg(self, ctx: Ctx, alias: str) -> str | None:
        path = ctx.imports.get(alias)
        if path and path.startswith(MODULE):
            return path[len(MODULE):]
        return None

    def _lookup_func(self, name: gp.Name, ctx: Ctx) -> Decl | None:
        if len(name.parts) == 1:
            return self.src.func(ctx.pkg, name.parts[0])
        if len(name.parts) == 2:
            pkg = self._other_pkg(ctx, name.parts[0])
            if pkg:
                return self.src.func(pkg, name.parts[1])
        return None

    def _lookup_var(self, name: gp.Name, ctx: Ctx) -> tuple[gp.Node, Ctx] | None:
        if len(name.parts) == 1:
            pkg, var = ctx.pkg, name.parts[0]
        elif len(name.parts) == 2 and self._other_pkg(ctx, name.parts[0]):
            pkg, var = self._other_pkg(ctx, name.parts[0]), name.parts[1]
        else:
            return None
        decl = self.src.var(pkg, var)
        if decl is None:
            return None
        toks = gp.tokenize(decl.text)
        for i, tok in enumerate(toks):
            if tok.val == "=" and i >= 1:
                try:
                    return gp.parse_expr_at(toks, i + 1), self._decl_ctx(decl)
                except gp.ParseError:
                    return None
        return None

    def resolve(self, node, ctx: Ctx, why: list, depth: int = 0):
        """Follow a value to the literal it stands for: (Composite | FuncLit | Lit | Opaque, ctx)."""
        if depth > 12:
            return gp.Opaque(text="reference chain too deep"), ctx
        if isinstance(node, gp.Unary) and node.op in ("&", "*"):
            return self.resolve(node.operand, ctx, why, depth + 1)
        if isinstance(node, gp.Binary):
            return gp.Opaque(line=node.line, text="binary expression"), ctx
        if isinstance(node, (gp.Composite, gp.Lit, gp.Opaque)) or node is None:
            return node, ctx
        if isinstance(node, gp.Name):
            if node.dotted in ("true", "false", "nil"):
                return gp.Lit(kind="bool", value=node.dotted), ctx
            if len(node.parts) == 1 and node.parts[0] in ctx.locals:
                val, lctx = ctx.locals[node.parts[0]]
                return self.resolve(val, lctx, why, depth + 1)
            found = self._lookup_var(node, ctx)
            if found:
                return self.resolve(found[0], found[1], why, depth + 1)
            return gp.Opaque(line=node.line, text=f"name {node.dotted}"), ctx
        if isinstance(node, gp.FuncLit):
            body = node.body
            fctx = Ctx(ctx.pkg, ctx.imports, ctx.path, dict(ctx.locals))
            fctx.locals.update({k: (v, fctx) for k, v in gp.assignments(body).items()})
            return self._first_literal_return(body, fctx, why, depth, f"func literal at {ctx.path}:{node.line}")
        if isinstance(node, gp.Call):
            f = node.func
            while isinstance(f, gp.Index):
                f = f.base
            if not isinstance(f, gp.Name):
                return gp.Opaque(line=node.line, text="call of an expression"), ctx
            if f.dotted in ("maps.Clone",) and node.args:  # copies of a schema map
                return self.resolve(node.args[0], ctx, why, depth + 1)
            decl = self._lookup_func(f, ctx)
            if decl is None:
                # a package var holding a function value, e.g. `var TagsSchema = sync.OnceValue(func() ...)`
                found = self._lookup_var(f, ctx) if not (len(f.parts) == 1 and f.parts[0] in ctx.locals) else \
                    ctx.locals[f.parts[0]]
                if found is None:
                    return gp.Opaque(line=node.line, text=f"call {f.dotted}()"), ctx
                val, vctx = found
                if isinstance(val, gp.Call) and val.func_name in ("sync.OnceValue", "sync.OnceFunc") and val.args:
                    val = val.args[0]
                if isinstance(val, (gp.FuncLit, gp.Call)):
                    return self.resolve(val, vctx, why, depth + 1)
                return gp.Opaque(line=node.line, text=f"call of var {f.dotted}"), ctx
            body = gp.body_tokens(decl.text)
            if _mutates_force_new(body):
                return gp.Opaque(line=node.line, text=f"{f.dotted}() sets ForceNew on a value it builds"), ctx
            return self._first_literal_return(body, self._decl_ctx(decl, body), why, depth,
                                              f"{f.dotted}() in {decl.path}")
        if isinstance(node, gp.Index):
            return gp.Opaque(line=node.line, text="index expression"), ctx
        return gp.Opaque(text=type(node).__name__), ctx

    def _first_literal_return(self, body, ctx, why, depth, label):
        opaque = None
        for ret in gp.returns_outer(body):
            val, vctx = self.resolve(ret, ctx, why, depth + 1)
            if isinstance(val, (gp.Composite, gp.FuncLit)):
                return val, vctx
            opaque = opaque or val
        return (opaque or gp.Opaque(text=f"no literal returned by {label}")), ctx

    def key(self, node, ctx: Ctx) -> str | None:
        if isinstance(node, gp.Lit) and node.kind == "str":
            return node.value
        if isinstance(node, gp.Name) and len(node.parts) == 2 and node.parts[0] == "names":
            return self.attr_names.get(node.parts[1])
        if isinstance(node, gp.Name):
            found = self._lookup_var(node, ctx)
            if found and isinstance(found[0], gp.Lit) and found[0].kind == "str":
                return found[0].value
        return None

    # ---- SDKv2 ----------------------------------------------------------------------------------
    def extract(self, tf_type: str) -> Extracted | None:
        reg = self.registry().get(tf_type)
        if reg is None:
            return None
        if reg.kind == "sdk":
            return self._extract_sdk(reg)
        return self._extract_framework(reg)

    def _extract_sdk(self, reg: Registration) -> Extracted:
        decl = self.src.func(reg.pkg, reg.factory)
        out = Extracted(reg.tf_type, "sdk", decl.path if decl else "", reg.regional)
        if decl is None:
            out.unresolved.append(f"factory {reg.factory} not found in {reg.pkg}")
            return out
        body = gp.body_tokens(decl.text)
        ctx = self._decl_ctx(decl, body)
        res, rctx = self._first_literal_return(body, ctx, [], 0, reg.factory)
        if not isinstance(res, gp.Composite):
            out.unresolved.append(f"{decl.path}: resource literal not found ({getattr(res, 'text', res)})")
            return out
        self._walk_sdk_resource(res, rctx, (), out)
        cd = res.fields().get("CustomizeDiff")
        if cd is not None:
            self._scan_customize(cd, rctx, out, set())
        return out

    def _schema_map(self, res: gp.Composite, ctx: Ctx, out: Extracted, prefix):
        f = res.fields()
        expr = f.get("Schema") or f.get("SchemaFunc")
        if expr is None:
            return None, ctx
        smap, sctx = self.resolve(expr, ctx, [])
        if isinstance(smap, gp.FuncLit):
            smap, sctx = self.resolve(smap, sctx, [])
        if not isinstance(smap, gp.Composite):
            out.unresolved.append(f"{_dotted(prefix) or '(top level)'}: schema map not resolved "
                                  f"({getattr(smap, 'text', smap)}) in {ctx.path}")
            return None, ctx
        return smap, sctx

    def _walk_sdk_resource(self, res: gp.Composite, ctx: Ctx, prefix: tuple, out: Extracted) -> None:
        smap, sctx = self._schema_map(res, ctx, out, prefix)
        if smap is None:
            return
        for k, v in smap.elems:
            name = self.key(k, sctx)
            if name is None:
                out.unresolved.append(f"{_dotted(prefix)}: attribute key {_show(k)} not resolved in {sctx.path}")
                continue
            path = prefix + (name,)
            attr, actx = self.resolve(v, sctx, [])
            if not isinstance(attr, gp.Composite):
                out.unresolved.append(f"{_dotted(path)}: schema not resolved ({getattr(attr, 'text', attr)}) "
                                      f"in {sctx.path}:{getattr(v, 'line', 0)}")
                continue
            af = attr.fields()
            force = _bool(af.get("ForceNew"))
            if force is None:
                out.unresolved.append(f"{_dotted(path)}: ForceNew is not a literal in {actx.path}")
                force = False
            is_input = bool(_bool(af.get("Required")) or _bool(af.get("Optional")))
            out.attrs[path] = Attr(is_input, force, f"{actx.path}:{attr.line}")
            elem = af.get("Elem")
            if elem is not None:
                node, ectx = self.resolve(elem, actx, [])
                if isinstance(node, gp.Composite) and (node.type or "").endswith("Resource"):
                    out.attrs[path].block = True
                    self._walk_sdk_resource(node, ectx, path, out)
                elif not (isinstance(node, gp.Composite) and (node.type or "").endswith("Schema")):
                    out.unresolved.append(f"{_dotted(path)}: element schema not resolved "
                                          f"({getattr(node, 'text', node)}) in {actx.path}")

    def _scan_customize(self, node, ctx: Ctx, out: Extracted, seen: set) -> None:
        if isinstance(node, gp.Call):
            fname = node.func_name
            last = fname.split(".")[-1]
            if last.startswith("ForceNewIf"):
                key = self.key(node.args[0], ctx) if node.args else None
                if key:
                    out.conditional.setdefault(_tf_path(key), f"CustomizeDiff {fname} ({ctx.path})")
                return
            if fname.startswith("customdiff."):
                # combinators: scan the CustomizeDiffFuncs they combine; other helpers cannot force new
                if last in ("Sequence", "All", "If", "IfValue", "IfValueChange"):
                    for a in node.args:
                        if not (isinstance(a, gp.Lit) or (isinstance(a, gp.Name) and a.parts[0] == "names")):
                            self._scan_customize(a, ctx, out, seen)
                return
            decl = self._lookup_func(node.func, ctx) if isinstance(node.func, gp.Name) else None
            if decl is not None and decl.path not in seen:
                seen.add(decl.path)
                body = gp.body_tokens(decl.text)
                self._scan_body_force_new(body, self._decl_ctx(decl, body), out, decl.path, seen)
            return
        if isinstance(node, gp.Name):
            decl = self._lookup_func(node, ctx)
            if decl is None:
                found = self._lookup_var(node, ctx)
                if found:
                    self._scan_customize(found[0], found[1], out, seen)
                elif node.dotted not in ("nil",):
                    out.unresolved.append(f"CustomizeDiff {node.dotted}: not found")
                return
            if decl.path in seen:
                return
            seen.add(decl.path)
            body = gp.body_tokens(decl.text)
            self._scan_body_force_new(body, self._decl_ctx(decl, body), out, decl.path, seen)
            return
        if isinstance(node, gp.FuncLit):
            self._scan_body_force_new(node.body, ctx, out, f"{ctx.path}:{node.line}", seen)

    def _scan_body_force_new(self, body, ctx: Ctx, out: Extracted, where: str, seen: set) -> None:
        for call in gp.calls_named(body, "ForceNew"):
            if call.args:
                key = self.key(call.args[0], ctx)
                if key is None:
                    out.unresolved.append(f"CustomizeDiff ForceNew({_show(call.args[0])}) key not resolved in {where}")
                else:
                    out.conditional.setdefault(_tf_path(key), f"CustomizeDiff ForceNew ({where})")
        for name in ("ForceNewIfChange", "ForceNewIf", "ForceNewIfChangeOrUnknown"):
            for call in gp.calls_named(body, name):
                self._scan_customize(call, ctx, out, seen)

    # ---- plugin framework -----------------------------------------------------------------------
    def _framework_struct(self, reg: Registration) -> str | None:
        decl = self.src.func(reg.pkg, reg.factory)
        if decl is None:
            return None
        body = gp.body_tokens(decl.text)
        for node in list(gp.assignments(body).values()) + gp.returns(body):
            while isinstance(node, gp.Unary):
                node = node.operand
            if isinstance(node, gp.Composite) and node.type and "." not in node.type:
                return node.type.split("[")[0]
        return None

    def _framework_method(self, pkg: str, struct: str, name: str, depth: int = 0):
        decl = self.src.method(pkg, struct, name)
        if decl is not None or depth > 4:
            return decl
        tdecl = self.src.type(pkg, struct)
        if tdecl is None:
            return None
        for line in tdecl.text.splitlines()[1:]:
            emb = line.strip().lstrip("*")
            if emb and emb.isidentifier():
                found = self._framework_method(pkg, emb, name, depth + 1)
                if found is not None:
                    return found
        return None

    def _extract_framework(self, reg: Registration) -> Extracted:
        struct = self._framework_struct(reg)
        out = Extracted(reg.tf_type, "framework", "", reg.regional)
        if struct is None:
            out.unresolved.append(f"factory {reg.factory}: resource struct not found")
            return out
        decl = self._framework_method(reg.pkg, struct, "Schema")
        if decl is None:
            out.unresolved.append(f"{struct}.Schema not found")
            return out
        out.schema_decl = decl.path
        body = gp.body_tokens(decl.text)
        ctx = self._decl_ctx(decl, body)
        assigned = gp.field_assignments(body, "Schema")
        if not assigned:
            out.unresolved.append(f"{decl.path}: no `response.Schema = ...`")
            return out
        sch, sctx = self.resolve(assigned[0], ctx, [])
        if not isinstance(sch, gp.Composite):
            out.unresolved.append(f"{decl.path}: schema literal not resolved")
            return out
        self._walk_fw_object(sch, sctx, (), out)
        mp = self._framework_method(reg.pkg, struct, "ModifyPlan")
        if mp is not None:
            self._scan_modify_plan(mp, out)
        return out

    def _walk_fw_object(self, obj: gp.Composite, ctx: Ctx, prefix: tuple, out: Extracted) -> None:
        f = obj.fields()
        for section in ("Attributes", "Blocks"):
            if section not in f:
                continue
            amap, mctx = self.resolve(f[section], ctx, [])
            if not isinstance(amap, gp.Composite):
                out.unresolved.append(f"{_dotted(prefix) or '(top level)'}: {section} not resolved in {ctx.path}")
                continue
            for k, v in amap.elems:
                name = self.key(k, mctx)
                if name is None:
                    out.unresolved.append(f"{_dotted(prefix)}: key {_show(k)} not resolved in {mctx.path}")
                    continue
                path = prefix + (name,)
                node, nctx = self.resolve(v, mctx, [])
                if not isinstance(node, gp.Composite):
                    out.unresolved.append(f"{_dotted(path)}: not resolved ({getattr(node, 'text', node)}) "
                                          f"in {mctx.path}:{getattr(v, 'line', 0)}")
                    continue
                nf = node.fields()
                block = section == "Blocks"
                is_input = block or bool(_bool(nf.get("Required")) or _bool(nf.get("Optional")))
                force = False
                mods = nf.get("PlanModifiers")
                if mods is not None:
                    lst, lctx = self.resolve(mods, nctx, [])
                    if not isinstance(lst, gp.Composite):
                        out.unresolved.append(f"{_dotted(path)}: plan modifiers not resolved in {nctx.path}")
                    else:
                        for _, m in lst.elems:
                            mname = m.func_name.split(".")[-1] if isinstance(m, gp.Call) else ""
                            if mname in _UNCONDITIONAL_MODIFIERS:
                                force = True
                            elif mname.startswith("RequiresReplace"):
                                out.conditional.setdefault(path, f"plan modifier {m.func_name} ({nctx.path})")
                            elif not isinstance(m, gp.Call):
                                out.unresolved.append(f"{_dotted(path)}: plan modifier {_show(m)} not a call")
                out.attrs[path] = Attr(is_input, force, f"{nctx.path}:{node.line}", block=block)
                nested = nf.get("NestedObject")
                if nested is not None:
                    nobj, octx = self.resolve(nested, nctx, [])
                    if isinstance(nobj, gp.Composite):
                        self._walk_fw_object(nobj, octx, path, out)
                    else:
                        out.unresolved.append(f"{_dotted(path)}: nested object not resolved in {nctx.path}")
                elif "Attributes" in nf or "Blocks" in nf:
                    self._walk_fw_object(node, nctx, path, out)

    def _scan_modify_plan(self, decl: Decl, out: Extracted) -> None:
        body = gp.body_tokens(decl.text)
        ctx = self._decl_ctx(decl, body)
        for i, tok in enumerate(body):
            if tok.val == "RequiresReplace" and i and body[i - 1].val == ".":
                window = body[i:i + 60]
                for call in gp.calls_named(window, "Root"):
                    key = self.key(call.args[0], ctx) if call.args else None
                    if key:
                        out.conditional.setdefault((key,), f"ModifyPlan sets RequiresReplace ({decl.path})")


def _mutates_force_new(body) -> bool:
    return any(t.val == "ForceNew" and i and body[i - 1].val == "." and i + 1 < len(body) and body[i + 1].val == "="
               for i, t in enumerate(body))


def _bool(node):
    if node is None:
        return False
    if isinstance(node, gp.Name) and node.dotted in ("true", "false"):
        return node.dotted == "true"
    if isinstance(node, gp.Lit) and node.kind == "bool":
        return node.value == "true"
    return None


def _tf_path(key: str) -> tuple:
    return tuple(p for p in key.split(".") if not (p.isdigit() or p == "#" or p == "%"))


def _dotted(path) -> str:
    return ".".join(path)


def _show(node) -> str:
    if isinstance(node, gp.Name):
        return node.dotted
    if isinstance(node, gp.Lit):
        return repr(node.value)
    return type(node).__name__

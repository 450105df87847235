"""A small, tolerant reader for the Go expressions that Terraform provider schemas are made of.

Not a Go compiler: it tokenizes Go source and parses *expressions* (composite literals, calls,
selectors, function literals, unary/binary operators) well enough to walk
`&schema.Resource{Schema: map[string]*schema.Schema{...}}` and the plugin framework's
`schema.Schema{Attributes: map[string]schema.Attribute{...}}`. Statements are never parsed as a
whole: callers look for `return EXPR`, `NAME := EXPR` and `X.Schema = EXPR` in a body's tokens and
parse the expression after them. Anything the parser does not understand becomes an `Opaque`
node, which the schema walkers report instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_OPS = sorted("""... <<= >>= &^= && || <- ++ -- == != <= >= := += -= *= /= %= &= |= ^= << >> &^
+ - * / % & | ^ < > = ! ( ) [ ] { } , ; . : ~""".split(), key=len, reverse=True)
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUM = re.compile(r"[0-9][0-9a-zA-Z_.]*")


@dataclass(frozen=True)
class Tok:
    kind: str  # id, str, num, op
    val: str
    line: int


def tokenize(src: str) -> list[Tok]:
    toks: list[Tok] = []
    i, n, line = 0, len(src), 1
    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            line += src.count("\n", i, j)
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            toks.append(Tok("str", _unquote(src[i + 1:j]), line))
            i = j + 1
        elif c == "`":
            j = src.find("`", i + 1)
            j = n if j < 0 else j
            toks.append(Tok("str", src[i + 1:j], line))
            line += src.count("\n", i, j)
            i = j + 1
        elif c == "'":
            j = i + 1
            while j < n and src[j] != "'":
                j += 2 if src[j] == "\\" else 1
            toks.append(Tok("num", src[i:j + 1], line))
            i = j + 1
        elif c.isalpha() or c == "_":
            m = _IDENT.match(src, i)
            toks.append(Tok("id", m.group(), line))
            i = m.end()
        elif c.isdigit():
            m = _NUM.match(src, i)
            toks.append(Tok("num", m.group(), line))
            i = m.end()
        else:
            for op in _OPS:
                if src.startswith(op, i):
                    toks.append(Tok("op", op, line))
                    i += len(op)
                    break
            else:  # a character Go does not have outside strings; keep going
                i += 1
    return toks


def _unquote(s: str) -> str:
    return s.replace('\\"', '"').replace("\\\\", "\\")


# ---- nodes -------------------------------------------------------------------------------------

@dataclass
class Node:
    line: int = 0


@dataclass
class Name(Node):
    parts: tuple[str, ...] = ()  # e.g. ("schema", "TypeString") or ("names", "AttrARN")

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass
class Lit(Node):
    kind: str = ""
    value: str = ""


@dataclass
class Composite(Node):
    type: str | None = None  # textual type, e.g. "schema.Resource", "map[string]*schema.Schema"
    elems: list[tuple[Node | None, Node]] = field(default_factory=list)

    def fields(self) -> dict[str, Node]:
        """Struct-literal fields by key name (keys that are plain identifiers)."""
        out = {}
        for k, v in self.elems:
            if isinstance(k, Name) and len(k.parts) == 1:
                out[k.parts[0]] = v
        return out


@dataclass
class Call(Node):
    func: Node | None = None
    args: list[Node] = field(default_factory=list)

    @property
    def func_name(self) -> str:
        f = self.func
        while isinstance(f, Index):
            f = f.base
        return f.dotted if isinstance(f, Name) else ""


@dataclass
class Index(Node):
    base: Node | None = None


@dataclass
class Unary(Node):
    op: str = ""
    operand: Node | None = None


@dataclass
class FuncLit(Node):
    body: list[Tok] = field(default_factory=list)


@dataclass
class Binary(Node):
    op: str = ""
    left: Node | None = None
    right: Node | None = None


@dataclass
class Opaque(Node):
    text: str = ""


class ParseError(Exception):
    pass


_BINOPS = {"+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>", "&^", "&&", "||", "==", "!=", "<", "<=",
           ">", ">="}
_KEYWORDS = {"break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough", "for",
             "func", "go", "goto", "if", "import", "interface", "map", "package", "range", "return", "select",
             "struct", "switch", "type", "var", "true", "false", "nil"}
_STOP = {",", ":", "}", ")", "]", ";", "=", ":="}


class Parser:
    def __init__(self, toks: list[Tok], pos: int = 0):
        self.t = toks
        self.i = pos

    # -- helpers
    def peek(self, k: int = 0) -> Tok | None:
        j = self.i + k
        return self.t[j] if j < len(self.t) else None

    def at(self, val: str, k: int = 0) -> bool:
        p = self.peek(k)
        return p is not None and p.val == val and p.kind in ("op", "id")

    def next(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise ParseError("unexpected end of input")
        self.i += 1
        return tok

    def expect(self, val: str) -> Tok:
        tok = self.next()
        if tok.val != val:
            raise ParseError(f"line {tok.line}: expected {val!r}, got {tok.val!r}")
        return tok

    def skip_balanced(self) -> tuple[int, int]:
        """At an opening bracket: skip to just past its match; returns (inner start, inner end)."""
        pairs = {"(": ")", "[": "]", "{": "}"}
        open_ = self.next()
        close = pairs[open_.val]
        depth, start = 1, self.i
        while depth:
            tok = self.next()
            if tok.kind == "op":
                if tok.val in pairs:
                    depth += 1
                elif tok.val in (")", "]", "}"):
                    depth -= 1
        if self.t[self.i - 1].val != close:
            raise ParseError("unbalanced brackets")
        return start, self.i - 1

    # -- types (only as much as composite literals and func signatures need)
    def parse_type(self) -> str:
        tok = self.peek()
        if tok is None:
            raise ParseError("type expected")
        if tok.val == "*":
            self.next()
            return "*" + self.parse_type()
        if tok.val == "[":
            s, e = self.skip_balanced()
            return "[" + "".join(x.val for x in self.t[s:e]) + "]" + self.parse_type()
        if tok.val == "map":
            self.next()
            s, e = self.skip_balanced()
            return "map[" + "".join(x.val for x in self.t[s:e]) + "]" + self.parse_type()
        if tok.val in ("interface", "struct"):
            self.next()
            self.skip_balanced()
            return tok.val + "{}"
        if tok.val == "func":
            self.next()
            self.skip_balanced()
            if self.peek() is not None and self.peek().val not in _STOP | {"{"}:
                self.parse_result_types()
            return "func"
        if tok.kind == "id":
            parts = [self.next().val]
            while self.at(".") and self.peek(1) is not None and self.peek(1).kind == "id":
                self.next()
                parts.append(self.next().val)
            name = ".".join(parts)
            if self.at("["):
                s, e = self.skip_balanced()
                name += "[" + "".join(x.val for x in self.t[s:e]) + "]"
            return name
        raise ParseError(f"line {tok.line}: type expected, got {tok.val!r}")

    def parse_result_types(self) -> None:
        if self.at("("):
            self.skip_balanced()
        else:
            self.parse_type()

    # -- expressions
    def parse_expr(self) -> Node:
        left = self.parse_unary()
        while True:
            tok = self.peek()
            if tok is None or tok.kind != "op" or tok.val not in _BINOPS:
                return left
            self.next()
            right = self.parse_unary()
            left = Binary(line=tok.line, op=tok.val, left=left, right=right)

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok is not None and tok.kind == "op" and tok.val in ("&", "*", "-", "!", "+", "^", "<-"):
            self.next()
            return Unary(line=tok.line, op=tok.val, operand=self.parse_unary())
        return self.parse_primary()

    def parse_primary(self) -> Node:
        tok = self.peek()
        if tok is None:
            raise ParseError("expression expected")
        line = tok.line
        if tok.kind == "str":
            self.next()
            return self.postfix(Lit(line=line, kind="str", value=tok.val))
        if tok.kind == "num":
            self.next()
            return Lit(line=line, kind="num", value=tok.val)
        if tok.val == "func" and tok.kind == "id":
            self.next()
            self.skip_balanced()  # parameters
            if not self.at("{"):
                self.parse_result_types()
            s, e = self.skip_balanced()
            return self.postfix(FuncLit(line=line, body=self.t[s:e]))
        if tok.val in ("map", "[", "struct", "interface") or (tok.val == "*" and False):
            typ = self.parse_type()
            if self.at("{"):
                return self.postfix(self.parse_composite(typ, line))
            if self.at("("):  # conversion
                return self.postfix(Call(line=line, func=Name(line=line, parts=(typ,)), args=self.parse_args()))
            return Opaque(line=line, text=typ)
        if tok.val == "{":
            return self.parse_composite(None, line)
        if tok.val == "(":
            self.next()
            inner = self.parse_expr()
            self.expect(")")
            return self.postfix(inner)
        if tok.kind == "id":
            self.next()
            return self.postfix(Name(line=line, parts=(tok.val,)))
        raise ParseError(f"line {line}: unexpected {tok.val!r}")

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok is None or tok.kind != "op":
                return node
            if tok.val == ".":
                nxt = self.peek(1)
                if nxt is not None and nxt.kind == "id":
                    self.next()
                    self.next()
                    if isinstance(node, Name):
                        node = Name(line=node.line, parts=node.parts + (nxt.val,))
                    else:
                        node = Opaque(line=node.line, text="selector on expression")
                elif nxt is not None and nxt.val == "(":  # type assertion
                    self.next()
                    self.skip_balanced()
                else:
                    return node
            elif tok.val == "(":
                node = Call(line=node.line, func=node, args=self.parse_args())
            elif tok.val == "[":
                self.skip_balanced()
                node = Index(line=node.line, base=node)
            elif tok.val == "{" and self._is_type_like(node):
                typ = node.dotted if isinstance(node, Name) else self._index_name(node)
                node = self.parse_composite(typ, node.line)
            else:
                return node

    @staticmethod
    def _is_type_like(node: Node) -> bool:
        if isinstance(node, Name):
            return node.parts[0] not in _KEYWORDS
        return isinstance(node, Index) and isinstance(node.base, Name)

    @staticmethod
    def _index_name(node: Node) -> str:
        base = node.base if isinstance(node, Index) else node
        return (base.dotted if isinstance(base, Name) else "?") + "[]"

    def parse_args(self) -> list[Node]:
        self.expect("(")
        args = []
        while not self.at(")"):
            args.append(self.parse_expr())
            if self.at("..."):
                self.next()
            if self.at(","):
                self.next()
            elif not self.at(")"):
                raise ParseError(f"line {self.peek().line}: ',' or ')' expected in call")
        self.expect(")")
        return args

    def parse_composite(self, typ: str | None, line: int) -> Composite:
        self.expect("{")
        elems: list[tuple[Node | None, Node]] = []
        while not self.at("}"):
            first = self.parse_expr()
            if self.at(":"):
                self.next()
                elems.append((first, self.parse_expr()))
            else:
                elems.append((None, first))
            if self.at(","):
                self.next()
            elif not self.at("}"):
                raise ParseError(f"line {self.peek().line}: ',' or '}}' expected in composite literal")
        self.expect("}")
        return Composite(line=line, type=typ, elems=elems)


def parse_expr_at(toks: list[Tok], pos: int) -> Node:
    return Parser(toks, pos).parse_expr()


# ---- looking into bodies -----------------------------------------------------------------------

def returns(body: list[Tok]) -> list[Node]:
    """Expressions after every `return` in a body (nested function literals included)."""
    out = []
    for i, tok in enumerate(body):
        if tok.kind == "id" and tok.val == "return":
            nxt = body[i + 1] if i + 1 < len(body) else None
            if nxt is None or nxt.val == "}":
                continue
            try:
                out.append(parse_expr_at(body, i + 1))
            except ParseError as err:
                out.append(Opaque(line=tok.line, text=f"unparsed return: {err}"))
    return out


def returns_outer(body: list[Tok]) -> list[Node]:
    """Like `returns`, but only the body's own `return`s: function literals inside are skipped."""
    out = []
    i = 0
    while i < len(body):
        tok = body[i]
        if tok.kind == "id" and tok.val == "func" and i + 1 < len(body) and body[i + 1].val == "(":
            p = Parser(body, i + 1)
            try:
                p.skip_balanced()
                if not p.at("{"):
                    p.parse_result_types()
                if p.at("{"):
                    p.skip_balanced()
                i = p.i
                continue
            except ParseError:
                i += 1
                continue
        if tok.kind == "id" and tok.val == "return":
            nxt = body[i + 1] if i + 1 < len(body) else None
            if nxt is not None and nxt.val != "}":
                try:
                    p = Parser(body, i + 1)
                    out.append(p.parse_expr())
                    i = p.i
                    continue
                except ParseError as err:
                    out.append(Opaque(line=tok.line, text=f"unparsed return: {err}"))
        i += 1
    return out


def assignments(body: list[Tok]) -> dict[str, Node]:
    """`NAME := EXPR`, `NAME = EXPR` and `var NAME [TYPE] = EXPR` in a body; the first one wins."""
    out: dict[str, Node] = {}
    for i, tok in enumerate(body):
        if tok.kind != "id" or i + 2 >= len(body):
            continue
        prev = body[i - 1] if i else None
        if prev is not None and prev.val in (".", ","):
            continue
        j = None
        if body[i + 1].val in (":=", "="):
            j = i + 2
        elif prev is not None and prev.val == "var":
            k = i + 1
            while k < len(body) and body[k].val != "=" and body[k].line == tok.line:
                k += 1
            if k < len(body) and body[k].val == "=":
                j = k + 1
        if j is None or tok.val in out:
            continue
        try:
            out[tok.val] = parse_expr_at(body, j)
        except ParseError:
            continue
    return out


def field_assignments(body: list[Tok], field_name: str) -> list[Node]:
    """`X.FIELD = EXPR` statements (e.g. `response.Schema = schema.Schema{...}`)."""
    out = []
    for i, tok in enumerate(body):
        if (tok.kind == "id" and tok.val == field_name and i >= 2 and body[i - 1].val == "."
                and i + 1 < len(body) and body[i + 1].val == "="):
            try:
                out.append(parse_expr_at(body, i + 2))
            except ParseError as err:
                out.append(Opaque(line=tok.line, text=f"unparsed assignment: {err}"))
    return out


def calls_named(body: list[Tok], name: str) -> list[Call]:
    """Every call `....NAME(args)` or `NAME(args)` in a body, parsed."""
    out = []
    for i, tok in enumerate(body):
        if tok.kind == "id" and tok.val == name and i + 1 < len(body) and body[i + 1].val == "(":
            start = i
            while start >= 2 and body[start - 1].val == "." and body[start - 2].kind == "id":
                start -= 2
            try:
                node = parse_expr_at(body, start)
            except ParseError:
                continue
            if isinstance(node, Call):
                out.append(node)
    return out


def func_source(src: str, name: str, receiver: str | None = None) -> str | None:
    """The text of `func NAME(` or `func (r *RECEIVER) NAME(` in a Go file, through its closing brace."""
    if receiver:
        pat = re.compile(r"^func\s*\(\s*\w*\s*\*?\s*" + re.escape(receiver) + r"(?:\[[^\]]*\])?\s*\)\s*"
                         + re.escape(name) + r"\s*[\[(]", re.M)
    else:
        pat = re.compile(r"^func\s+" + re.escape(name) + r"\s*[\[(]", re.M)
    m = pat.search(src)
    if not m:
        return None
    return _through_body(src, m.start())


def var_source(src: str, name: str) -> str | None:
    m = re.search(r"^(?:var\s+" + re.escape(name) + r"\b|\t" + re.escape(name) + r"\s*(?:[\w.*\[\]]+\s*)?=)",
                  src, re.M)
    if not m:
        return None
    end = src.find("\n", m.start())
    # extend over a multi-line literal
    depth = 0
    for j in range(m.start(), len(src)):
        ch = src[j]
        if ch in "{([":
            depth += 1
        elif ch in "})]":
            depth -= 1
        elif ch == "\n" and depth <= 0 and j >= end:
            return src[m.start():j]
    return src[m.start():]


def _through_body(src: str, start: int) -> str:
    toks_start = src.find("{", src.find(")", start))
    # find the body's opening brace: the first '{' after the signature at paren depth 0
    depth_paren = 0
    j = start
    while j < len(src):
        ch = src[j]
        if ch == "(":
            depth_paren += 1
        elif ch == ")":
            depth_paren -= 1
        elif ch == "{" and depth_paren == 0:
            # skip `interface{}` / `struct{...}` in the signature
            if src[max(start, j - 9):j].rstrip().endswith(("interface", "struct")):
                k = src.find("}", j)
                j = k + 1
                continue
            toks_start = j
            break
        j += 1
    toks = tokenize(src[toks_start:])
    depth = 0
    end_line = None
    for tok in toks:
        if tok.kind == "op" and tok.val == "{":
            depth += 1
        elif tok.kind == "op" and tok.val == "}":
            depth -= 1
            if depth == 0:
                end_line = tok.line
                break
    if end_line is None:
        return src[start:]
    lines = src[toks_start:].split("\n")
    return src[start:toks_start] + "\n".join(lines[:end_line])


def body_tokens(func_src: str) -> list[Tok]:
    """Tokens inside the outermost body braces of a function's source."""
    toks = tokenize(func_src)
    # the body opens at the first '{' after the parameter list closes at depth 0
    depth = 0
    seen_params = False
    for i, tok in enumerate(toks):
        if tok.val == "(":
            depth += 1
        elif tok.val == ")":
            depth -= 1
            if depth == 0:
                seen_params = True
        elif tok.val == "{" and depth == 0 and seen_params:
            if i >= 1 and toks[i - 1].val in ("interface", "struct"):
                continue
            p = Parser(toks, i)
            try:
                s, e = p.skip_balanced()
            except ParseError:
                return toks[i + 1:]
            return toks[s:e]
    return []


def imports(src: str) -> dict[str, str]:
    """Import alias -> import path for a Go file's import block(s)."""
    out = {}
    for block in re.findall(r"^import\s*\((.*?)^\)", src, re.S | re.M):
        for line in block.splitlines():
            m = re.match(r'\s*(?:([\w.]+)\s+)?"([^"]+)"', line)
            if m:
                alias = m.group(1) or m.group(2).rstrip("/").split("/")[-1]
                if alias in ("_", "."):
                    continue
                out[alias] = m.group(2)
    for m in re.finditer(r'^import\s+(?:([\w.]+)\s+)?"([^"]+)"', src, re.M):
        out[m.group(1) or m.group(2).split("/")[-1]] = m.group(2)
    return out

#!/usr/bin/env python3
"""Fails when the modules of one crate import each other in a circle.

For every crate under crates/, each `src/*.rs` file (or `src/NAME/` folder) is a module. A
module depends on another when its code names `crate::other` (in a path or in a `use crate::{..}`
group), or names an item the crate root re-exports from `other` (`pub use other::{A, B}` in
lib.rs, e.g. `crate::Sahih`). The crate root itself is left out: it only declares and re-exports.
Tests (`#[cfg(test)] mod tests` to the end of a file) are left out too.

Usage: python3 scripts/check-module-cycles.py [crate ...]   (default: every crate)
Prints each crate's module order (lowest first) and exits 1 naming every circle found.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules_of(src: Path) -> dict[str, list[Path]]:
    """Top-level modules and their files: `NAME.rs`, or a `NAME/` folder whose files (mod.rs and
    its submodules) form one module."""
    mods = {}
    for f in sorted(src.glob("*.rs")):
        if f.stem not in ("lib", "main"):
            mods[f.stem] = [f]
    for d in sorted(p for p in src.iterdir() if p.is_dir()):
        if (d / "mod.rs").is_file():
            mods[d.name] = sorted(d.rglob("*.rs"))
    return mods


def without_tests(text: str) -> str:
    m = re.search(r"(?m)^#\[cfg\(test\)\]\s*\n\s*mod tests", text)
    text = text[: m.start()] if m else text
    # Comments name modules in prose ("see `crate::ra`"); only code counts.
    return re.sub(r"(?m)//.*$", "", text)


def reexports(root_file: Path, mods: dict) -> dict[str, str]:
    """Names the crate root re-exports, and the module each comes from."""
    names = {}
    text = root_file.read_text() if root_file.is_file() else ""
    for m in re.finditer(r"pub use (\w+)::(\{[^}]*\}|\w+);", text):
        module, items = m.group(1), m.group(2)
        if module not in mods:
            continue
        for item in re.findall(r"\w+", items):
            names[item] = module
    return names


def group_heads(group: str) -> list[str]:
    """First path segments inside a `{...}` use group (nested groups flattened)."""
    heads, depth, current = [], 0, ""
    for ch in group:
        if ch == "{":
            depth += 1
            if depth == 1:
                continue
        if ch == "}":
            depth -= 1
        if depth == 1 and ch == ",":
            heads.append(current)
            current = ""
        elif depth >= 1:
            current += ch
    heads.append(current)
    return [h.strip().split("::")[0].strip() for h in heads if h.strip()]


def deps_of(text: str, me: str, mods: dict, reexported: dict) -> set[str]:
    deps = set()
    for m in re.finditer(r"crate::(\{(?:[^{}]|\{[^{}]*\})*\}|\w+)", text):
        token = m.group(1)
        heads = group_heads(token) if token.startswith("{") else [token]
        for h in heads:
            target = h if h in mods else reexported.get(h)
            if target and target != me:
                deps.add(target)
    return deps


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main() -> int:
    wanted = sys.argv[1:]
    failed = False
    for crate in sorted((ROOT / "crates").iterdir()):
        src = crate / "src"
        if not src.is_dir() or (wanted and crate.name not in wanted):
            continue
        mods = modules_of(src)
        root_file = src / "lib.rs" if (src / "lib.rs").is_file() else src / "main.rs"
        reexported = reexports(root_file, mods)
        graph = {
            m: set().union(*(deps_of(without_tests(f.read_text()), m, mods, reexported) for f in files))
            for m, files in mods.items()
        }
        found = cycles(graph)
        if found:
            failed = True
            for comp in found:
                inner = {m: sorted(graph[m] & set(comp)) for m in comp}
                ties = "; ".join(f"{m} -> {', '.join(t)}" for m, t in inner.items())
                print(f"{crate.name}: modules in a circle: {', '.join(comp)} ({ties})")
        else:
            print(f"{crate.name}: {len(mods)} modules, no circles")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

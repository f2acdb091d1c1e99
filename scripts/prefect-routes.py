#!/usr/bin/env python3
"""List every route of a Prefect 3 server's REST API, one `METHOD /path` a line (WS = websocket).

Gatehouse's gateway declares a workspace scope for each of these routes in
src/gateway/route-table.ts; test/gateway/prefect-routes.txt is this script's output, and
src/gateway/route-table.test.ts fails when the table and that inventory disagree. The inventory is
read from Prefect's source, not from the table, so a route Prefect adds (or drops) shows up.

Usage, against a Prefect checkout (a work tree, or a bare/mirror git directory):
    python3 scripts/prefect-routes.py /path/to/prefect > test/gateway/prefect-routes.txt
    python3 scripts/prefect-routes.py /path/to/prefect.git --rev v3.8.4 > test/gateway/prefect-routes.txt
Then update src/gateway/route-table.ts until `npx vitest run src/gateway` passes.

How it reads the source (static analysis with `ast`; nothing from Prefect is imported or run):
- `API_ROUTERS` in src/prefect/server/api/server.py gives the routers in include order;
  `api.ui.flows.router` is the `router` of src/prefect/server/api/ui/flows.py.
- Each router module's `router = PrefectRouter(prefix=...)` gives the prefix; every
  `@router.get|post|put|patch|delete|websocket|api_route(path, ...)` gives a route. Routes are
  listed in registration order: functions in source order, stacked decorators bottom-up (the
  innermost decorator registers first), because Starlette tries routes in that order.
- `create_api_app` contributes its own `@api_app.<method>(...)` routes around the router loop,
  and `create_app` its `@api_app.<method>(...)` routes and `api_app.mount(path, ...)` mounts (a
  mount is listed as `GET <path>/{path:path}`).
- A route registered inside an `if` gets a trailing `# conditional` comment.
Anything it cannot read (a computed path, `add_api_route`, an unknown decorator) stops it with
an error instead of being skipped.
"""

import argparse
import ast
import os
import subprocess
import sys

API_DIR = "src/prefect/server/api"
HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


class Source:
    """Reads files from a work tree, or with `git show` from a git directory."""

    def __init__(self, root, rev):
        self.root = root
        self.rev = rev
        self.is_tree = rev is None and os.path.isfile(os.path.join(root, API_DIR, "server.py"))

    def read(self, path):
        if self.is_tree:
            with open(os.path.join(self.root, path), encoding="utf-8") as f:
                return f.read()
        return self._git("show", f"{self.rev or 'HEAD'}:{path}")

    def commit(self):
        try:
            return self._git("rev-parse", self.rev or "HEAD").strip()
        except SystemExit:
            return "unknown (not a git checkout)"

    def _git(self, *args):
        done = subprocess.run(["git", "-C", self.root, *args], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"git {' '.join(args)} failed in {self.root}: {done.stderr.strip()}")
        return done.stdout


def fail(where, message):
    sys.exit(f"{where}: {message}; teach scripts/prefect-routes.py this case")


def literal_str(node, where, names=None):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if names is not None and isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    fail(where, f"path is not a string literal: {ast.unparse(node)}")


def decorator_routes(deco, obj, where, names=None):
    """[(METHOD, path)] for one `@obj.<kind>(...)` decorator, or [] when it is not a route."""
    if not (isinstance(deco, ast.Call) and isinstance(deco.func, ast.Attribute)):
        return []
    target = deco.func.value
    if not (isinstance(target, ast.Name) and target.id == obj):
        return []
    kind = deco.func.attr
    if kind == "middleware" or kind == "exception_handler" or kind == "on_event":
        return []
    args = {kw.arg: kw.value for kw in deco.keywords}
    path_node = deco.args[0] if deco.args else args.get("path")
    if path_node is None:
        fail(where, f"@{obj}.{kind} without a path")
    path = literal_str(path_node, where, names)
    if kind in HTTP_METHODS:
        return [(kind.upper(), path)]
    if kind == "websocket":
        return [("WS", path)]
    if kind == "api_route":
        methods = args.get("methods")
        if not isinstance(methods, (ast.List, ast.Tuple, ast.Set)):
            fail(where, "@api_route without a literal methods list")
        return [(literal_str(m, where).upper(), path) for m in methods.elts]
    fail(where, f"unknown route decorator @{obj}.{kind}")


def walk_in_order(node, inside_if=False):
    """Yield (statement, inside_if) for every statement below `node`, in source order."""
    for field in ("body", "orelse", "finalbody", "handlers"):
        for child in getattr(node, field, []) or []:
            yield child, inside_if
            nested_if = inside_if or isinstance(child, (ast.If, ast.Try))
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from walk_in_order(child, nested_if)


def check_no_other_registration(tree, obj, where):
    """Stop on route registrations this script does not read (the router loop is read)."""
    loop_calls = {
        id(node)
        for loop in ast.walk(tree)
        if isinstance(loop, ast.For) and ast.unparse(loop.iter) == "API_ROUTERS"
        for node in ast.walk(loop)
    }
    for node in ast.walk(tree):
        if id(node) in loop_calls:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            if isinstance(target, ast.Name) and target.id == obj and node.func.attr in {
                "add_api_route", "add_route", "add_websocket_route", "add_api_websocket_route",
                "route", "include_router",
            }:
                fail(where, f"{obj}.{node.func.attr}(...) at line {node.lineno}")


def router_prefix(tree, where):
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "router" for t in targets):
                call = node.value
                if not isinstance(call, ast.Call):
                    fail(where, "`router` is not built by a call")
                for kw in call.keywords:
                    if kw.arg == "prefix":
                        return literal_str(kw.value, where)
                return ""
    fail(where, "no module-level `router = PrefectRouter(...)`")


def functions_routes(stmts, obj, where, names=None):
    """Routes declared by decorated functions among `stmts`, in registration order."""
    out = []
    for stmt, inside_if in stmts:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for deco in reversed(stmt.decorator_list):
                for method, path in decorator_routes(deco, obj, f"{where}:{deco.lineno}", names):
                    out.append((method, path, inside_if))
    return out


def module_routes(source, module):
    path = f"{API_DIR}/{module.replace('.', '/')}.py"
    tree = ast.parse(source.read(path), filename=path)
    check_no_other_registration(tree, "router", path)
    prefix = router_prefix(tree, path)
    return [(m, prefix + p, c) for m, p, c in functions_routes(walk_in_order(tree), "router", path)]


def api_routers(server_tree, where):
    for node in server_tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "API_ROUTERS" for t in node.targets
        ):
            modules = []
            for elt in node.value.elts:
                dotted = ast.unparse(elt)
                if not (dotted.startswith("api.") and dotted.endswith(".router")):
                    fail(where, f"unexpected API_ROUTERS entry {dotted}")
                modules.append(dotted[len("api."):-len(".router")])
            return modules
    fail(where, "no API_ROUTERS tuple")


def find_function(tree, name, where):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    fail(where, f"no function {name}")


def string_defaults(func):
    """Parameter name → default, for the string-literal defaults of `func`."""
    params = func.args.args + func.args.kwonlyargs
    defaults = [None] * (len(func.args.args) - len(func.args.defaults)) + list(func.args.defaults)
    defaults += list(func.args.kw_defaults)
    return {
        p.arg: d.value
        for p, d in zip(params, defaults)
        if isinstance(d, ast.Constant) and isinstance(d.value, str)
    }


def app_routes(stmts, where, names, routers):
    """Routes of `create_api_app`/`create_app`: decorators, mounts, and the router loop."""
    out = []
    for stmt, inside_if in stmts:
        if isinstance(stmt, ast.For) and ast.unparse(stmt.iter) == "API_ROUTERS":
            out.extend(routers())
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            out.extend(functions_routes([(stmt, inside_if)], "api_app", where, names))
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            call = stmt.value
            if (
                isinstance(call.func, ast.Attribute)
                and ast.unparse(call.func.value) == "api_app"
                and call.func.attr == "mount"
            ):
                mount = literal_str(call.args[0], f"{where}:{call.lineno}")
                out.append(("GET", mount.rstrip("/") + "/{path:path}", inside_if))
    return out


def inventory(source):
    server_path = f"{API_DIR}/server.py"
    server = ast.parse(source.read(server_path), filename=server_path)
    modules = api_routers(server, server_path)

    def routers():
        return [r for module in modules for r in module_routes(source, module)]

    create_api_app = find_function(server, "create_api_app", server_path)
    check_no_other_registration(create_api_app, "api_app", server_path)
    routes = app_routes(
        walk_in_order(create_api_app), server_path, string_defaults(create_api_app), routers
    )
    if not routes:
        fail(server_path, "create_api_app registers no routes")
    create_app = find_function(server, "create_app", server_path)
    check_no_other_registration(create_app, "api_app", server_path)
    routes += app_routes(walk_in_order(create_app), server_path, {}, lambda: [])
    return routes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("prefect", help="a Prefect checkout: a work tree or a git directory")
    parser.add_argument("--rev", help="commit, tag or branch to read (git directories; default HEAD)")
    opts = parser.parse_args()
    source = Source(opts.prefect, opts.rev)
    routes = inventory(source)
    seen = set()
    lines = []
    for method, path, conditional in routes:
        if (method, path) in seen:
            sys.exit(f"{method} {path} is registered twice; the second can never match")
        seen.add((method, path))
        lines.append(f"{method} {path}" + ("  # conditional" if conditional else ""))
    print("# Every route of the Prefect 3 server REST API, relative to its mount (/api), in the order")
    print("# Starlette tries them. WS = websocket. Generated by scripts/prefect-routes.py from")
    print(f"# PrefectHQ/prefect commit {source.commit()}; regenerate it, do not edit it.")
    print(f"# {len(lines)} routes.")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

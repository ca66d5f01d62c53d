"""Turns a parameter file of `gridhub-bench sample` into the request bodies of one query of the
mix, as a Lua chunk returning a list of JSON strings for bench/lib/graphql.lua.

usage: bodies.py PARAMS_JSON QUERY_LETTER GRAPHQL_FILE OUT_LUA
"""

import json
import sys


def variables(params, query):
    """The variables of every request of `query`, in rotation order."""
    if query == "a":
        return [{"idNumber": n} for n in params["id_numbers"]]
    if query == "card":
        return [{"id": i} for i in params["person_ids"]]
    if query == "b":
        return [{"code": c} for c in params["communities"]]
    if query == "c":
        span = {"from": params["reported_from"], "to": params["reported_to"]}
        return [{"code": c, **span} for c in params["streets"]]
    if query == "d":
        return [{"code": p["code"], "prefix": p["prefix"]} for p in params["name_prefixes"]]
    if query == "e":
        return [{"code": c} for c in params["nested_grids"]]
    raise SystemExit(f"unknown query {query!r}")


def lua_string(text):
    """`text` as a Lua long string whose brackets do not occur in it."""
    level = 0
    while "]" + "=" * level + "]" in text:
        level += 1
    eq = "=" * level
    return f"[{eq}[{text}]{eq}]"


def main():
    params_file, query, graphql_file, out = sys.argv[1:5]
    with open(params_file, encoding="utf-8") as f:
        params = json.load(f)
    with open(graphql_file, encoding="utf-8") as f:
        text = f.read()
    bodies = [
        json.dumps({"query": text, "variables": v}, ensure_ascii=False)
        for v in variables(params, query)
    ]
    if not bodies:
        raise SystemExit(f"no parameters for query {query} in {params_file}")
    with open(out, "w", encoding="utf-8") as f:
        f.write("return {\n")
        f.writelines(f"  {lua_string(b)},\n" for b in bodies)
        f.write("}\n")


if __name__ == "__main__":
    main()

"""Writes bench/RESULTS.md from the measurements of one run of bench/run.sh.

usage: report.py RESULTS_JSONL OUT_MD PERSONS DURATION

Each input line is {"db", "query", "connections", "side": "gridhub"|"baseline", "result", and for
gridhub "rss_kb"}; "result" is the line printed by bench/lib/graphql.lua (gridhub) or by
`gridhub-bench baseline`.
"""

import datetime
import json
import os
import subprocess
import sys

QUERIES = {
    "a": "person card",
    "b": "grid dashboard",
    "c": "street events",
    "d": "names in a community",
    "e": "nested",
}


def command(*args):
    try:
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.rstrip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def commit():
    head = command("git", "rev-parse", "--short", "HEAD")
    dirty = command("git", "status", "--porcelain", "--untracked-files=no")
    return head + (" (with uncommitted changes)" if dirty and dirty != "unknown" else "")


def load(path):
    rows = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                m = json.loads(line)
                rows[(m["db"], m["query"], m["connections"], m["side"])] = m
    return rows


def gridhub_figures(m):
    r = m["result"]
    seconds = r["duration_us"] / 1e6
    errors = r["non2xx"] + r["graphql_errors"] + r["socket_errors"]
    return {
        "rps": r["requests"] / seconds if seconds else 0.0,
        "p50": r["p50_ms"],
        "p99": r["p99_ms"],
        "errors": errors,
        "rss_mb": m.get("rss_kb", 0) / 1024,
    }


def baseline_figures(m):
    r = m["result"]
    return {"rps": r["rps"], "p50": r["p50_ms"], "p99": r["p99_ms"], "errors": r["errors"]}


def ratio(a, b):
    return a / b if b else float("inf")


def fmt(x, digits=2):
    return "–" if x is None else f"{x:,.{digits}f}"


def table(rows, db):
    lines = [
        "| query | conns | gridhub req/s | p50 ms | p99 ms | errors "
        "| SQL req/s | p50 ms | p99 ms | errors | p50 ratio | p99 ratio | peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    figures = {}
    for q, name in QUERIES.items():
        for c in sorted({k[2] for k in rows if k[0] == db and k[1] == q}):
            g = rows.get((db, q, c, "gridhub"))
            s = rows.get((db, q, c, "baseline"))
            g = gridhub_figures(g) if g else None
            s = baseline_figures(s) if s else None
            figures[(q, c)] = (g, s)
            r50 = ratio(g["p50"], s["p50"]) if g and s else None
            r99 = ratio(g["p99"], s["p99"]) if g and s else None
            lines.append(
                f"| {q}. {name} | {c} "
                f"| {fmt(g and g['rps'], 0)} | {fmt(g and g['p50'])} | {fmt(g and g['p99'])} "
                f"| {g['errors'] if g else '–'} "
                f"| {fmt(s and s['rps'], 0)} | {fmt(s and s['p50'])} | {fmt(s and s['p99'])} "
                f"| {s['errors'] if s else '–'} "
                f"| {fmt(r50)} | {fmt(r99)} | {fmt(g and g['rss_mb'], 0)} |"
            )
    return lines, figures


def verdict(ok):
    return "met" if ok else "**missed**"


def targets(figures):
    lines = []
    card = figures.get(("a", 32), (None, None))[0]
    dash = figures.get(("b", 32), (None, None))[0]
    if card:
        lines.append(f"- person card p99 ≤ 10 ms at 32 connections: "
                     f"{verdict(card['p99'] <= 10)} ({card['p99']:.2f} ms)")
        lines.append(f"- person card ≥ 3,000 req/s at 32 connections: "
                     f"{verdict(card['rps'] >= 3000)} ({card['rps']:,.0f} req/s)")
    if dash:
        lines.append(f"- grid dashboard p99 ≤ 50 ms at 32 connections: "
                     f"{verdict(dash['p99'] <= 50)} ({dash['p99']:.2f} ms)")
    pairs = [(k, g, s) for k, (g, s) in figures.items() if g and s]
    for pct in ("p50", "p99"):
        if pairs:
            (q, c), g, s = max(pairs, key=lambda p: ratio(p[1][pct], p[2][pct]))
            worst = ratio(g[pct], s[pct])
            lines.append(f"- gridhub {pct} ≤ 1.5× hand-written SQL, every query and concurrency: "
                         f"{verdict(worst <= 1.5)} (worst {worst:.2f}×, query {q} at {c})")
    rss = [g["rss_mb"] for g, _ in figures.values() if g]
    if rss:
        lines.append(f"- server RSS ≤ 200 MB under load: "
                     f"{verdict(max(rss) <= 200)} (peak {max(rss):.0f} MB)")
    errors = sum(g["errors"] for g, _ in figures.values() if g)
    lines.append(f"- no errors: {verdict(errors == 0)} ({errors} gridhub errors)")
    return lines


def machine(persons, duration):
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    free = command("free", "-h")
    return [
        f"- date: {now}",
        f"- commit: {commit()}",
        f"- persons: {int(persons):,}",
        f"- duration per measurement: {duration} s",
        f"- CPU: {cpu_model()}, {os.cpu_count()} cores (nproc {command('nproc')})",
        "- memory (`free -h`):",
        "",
        "```",
        free,
        "```",
    ]


def main():
    results, out, persons, duration = sys.argv[1:5]
    rows = load(results)
    lines = ["# gridhub read-path benchmark", "", "Written by `bench/run.sh`; see `bench/README.md` "
             "for what each query and column means.", "", "## Machine", ""]
    lines += machine(persons, duration)
    if int(persons) != 1_000_000:
        lines += ["", f"The targets are set for 1,000,000 persons; this run has {int(persons):,}, "
                      "so the verdicts below are indicative only."]
    for db in sorted({k[0] for k in rows}, key=lambda d: (d != "sqlite", d)):
        body, figures = table(rows, db)
        lines += ["", f"## {db}", ""] + body + ["", "Targets:", ""] + targets(figures)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()

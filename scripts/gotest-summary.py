#!/usr/bin/env python3
"""Summarises `go test -json` output: failing tests with their output,
package results, and a last line 'P passed, F failed, S skipped'."""
import json, sys

tests, output, pkgs = {}, {}, {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try:
        ev = json.loads(line)
    except ValueError:
        continue
    key = (ev.get("Package"), ev.get("Test"))
    act = ev.get("Action")
    if act == "output":
        output.setdefault(key, []).append(ev.get("Output", ""))
    elif act in ("pass", "fail", "skip"):
        if ev.get("Test"):
            tests[key] = act
        else:
            pkgs[ev.get("Package")] = (act, ev.get("Elapsed", 0))

for (pkg, name), act in sorted(tests.items()):
    if act == "fail":
        print(f"--- FAIL: {pkg} {name}")
        sys.stdout.write("".join(output.get((pkg, name), [])[-60:]))
for pkg, (act, el) in sorted(pkgs.items()):
    if act == "fail":
        sys.stdout.write("".join(output.get((pkg, None), [])[-40:]))
    print(f"{'ok  ' if act != 'fail' else 'FAIL'} {pkg} {el:.1f}s" + (" [no tests]" if act == "skip" else ""))
counts = {a: sum(1 for v in tests.values() if v == a) for a in ("pass", "fail", "skip")}
failing_pkgs = {p for (p, _), v in tests.items() if v == "fail"}
# A package that failed with no failing test did not build or crashed.
broken = sum(1 for pk, (a, _) in pkgs.items() if a == "fail" and pk not in failing_pkgs)
print(f"{counts['pass']} passed, {counts['fail'] + broken} failed, {counts['skip']} skipped")

"""What the operator reads first: one verdict line per gate, the gates.json merge, evidence links.

Plain functions over the reporter's results (id -> {"verdict", "reason", "evidence"}), shared by
the terminal summary, the HTML report, gates.json and the review file's rows, so the four never
disagree.

    M1: PASS (7/7)  head f1e2d3c4b5a6978877665544332211a0b9c8d7e6  build #58
    M2: FAIL (9/10: M2.no-leaks)  head f1e2d3c4b5a6978877665544332211a0b9c8d7e6  build #58

A gate passes only when every requirement passed or does not apply (skip); an `error` is never
a pass, and is named with the failures (`M2.outcome?`: could not find out).
"""

from __future__ import annotations

import re
from typing import Any

from ghostgates.catalogue import GATES
from ghostgates.judge.verdict import ERROR, PASS, SKIP

Results = dict[str, dict[str, Any]]


def gate_verdict(results: Results) -> str:
    """PASS only when every requirement passed or does not apply; an error is never a PASS."""
    return "PASS" if all(r["verdict"] in (PASS, SKIP) for r in results.values()) else "FAIL"


def gate_entry(gate: str, results: Results, context: dict[str, Any]) -> dict[str, Any]:
    """The `gates` object of gates.json for one gate this run checked (whole or in part)."""
    ids = GATES[gate]
    ran = {rid: results[rid] for rid in ids if rid in results}
    ok = [rid for rid, r in ran.items() if r["verdict"] in (PASS, SKIP)]
    failing = [rid for rid, r in ran.items() if r["verdict"] not in (PASS, SKIP)]
    errors = [rid for rid in failing if ran[rid]["verdict"] == ERROR]
    complete = len(ran) == len(ids)
    entry: dict[str, Any] = {
        "verdict": gate_verdict(ran) if complete else None,
        "passed": len(ok), "total": len(ids), "ran": len(ran),
        "failing": failing, "errors": errors,
        "head": context.get("head"), "build": context.get("build"), "at": context.get("at"),
        "role": context.get("role"),
    }
    entry["line"] = gate_line(gate, entry)
    return entry


def gate_line(gate: str, entry: dict[str, Any]) -> str:
    """`M2: FAIL (9/10: M2.no-leaks)  head <sha>  build #58`: what the record binds, in one line."""
    if entry["verdict"] is None:
        head = (f"{gate}: no verdict ({entry['ran']} of {entry['total']} requirements ran: run the whole gate "
                "to judge it)")
    else:
        names = [f"{rid}?" if rid in entry.get("errors", ()) else rid for rid in entry["failing"]]
        tail = f": {', '.join(names)}" if names else ""
        head = f"{gate}: {entry['verdict']} ({entry['passed']}/{entry['total']}{tail})"
    build = entry.get("build")
    build_text = f"build #{build}" if build not in (None, "none") else "no finished build"
    return f"{head}  head {entry.get('head') or 'none'}  {build_text}"


def gates_of(results: Results) -> list[str]:
    return [gate for gate, ids in GATES.items() if any(rid in results for rid in ids)]


def merge(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """gates.json after this run: the gates it checked replaced whole, every other gate kept.

    `gates/m1` then `gates/m2` leaves both gates in the file, each with its own head, build and
    time. A gate this run touched (even one requirement, with -k) loses all of its old rows, so a
    file never mixes two runs inside one gate. The old file is kept only when it describes the same
    phase and world; anything else (another world, an unreadable file) is replaced whole.
    """
    if not isinstance(old, dict) or (old.get("phase"), old.get("world")) != (new.get("phase"), new.get("world")):
        return new
    touched = set(new.get("gates", {}))
    kept_results = {rid: r for rid, r in (old.get("results") or {}).items()
                    if rid.split(".", 1)[0] not in touched}
    kept_gates = {g: e for g, e in (old.get("gates") or {}).items() if g not in touched}
    order = {rid: i for i, rid in enumerate(rid for ids in GATES.values() for rid in ids)}
    results = {**kept_results, **new.get("results", {})}
    merged = dict(new)
    merged["results"] = dict(sorted(results.items(), key=lambda kv: order.get(kv[0], len(order))))
    merged["gates"] = {g: e for g, e in sorted({**kept_gates, **new.get("gates", {})}.items(),
                                               key=lambda kv: list(GATES).index(kv[0]) if kv[0] in GATES else 99)}
    return merged


_SAFE_URL = re.compile(r"^https?://[^\s<>()\[\]`|\\]+$")


def markdown_links(evidence: list[dict[str, Any]], escape: Any, limit: int = 8) -> str:
    """The evidence as inert Markdown links (`[PR #4](https://...)`), the name escaped; a URL that
    could break out of the link (spaces, brackets, parentheses) is shown as escaped text instead."""
    out = []
    for ev in evidence[:limit]:
        url = str(ev.get("url") or "")
        name = escape(ev.get("name") or url or ev.get("kind", ""))
        if url and _SAFE_URL.match(url):
            out.append(f"[{name}]({url})")
        elif name:
            out.append(name)
    if len(evidence) > limit:
        out.append(f"and {len(evidence) - limit} more (gates.json)")
    return ", ".join(out)


def done_readiness(verdict_status: str, reason: str, head: str, build: str) -> str:
    """The Builder's last line: may `## DONE` be written now, or what is missing."""
    if verdict_status == PASS:
        return (f"DONE may be written now: adversary PASSes for M1 and M2 are bound to head {head} and "
                f"build #{build}.")
    if verdict_status == ERROR:
        return f"DONE may not be written yet: could not find out ({reason.rstrip('.')})."
    missing = reason.split(": ", 1)[1] if reason.startswith("`## DONE` is not signed: ") else reason
    return f"DONE may not be written yet: {missing.rstrip('.')} (head {head}, build #{build})."

"""One result model that the review file, gates.json and the HTML report all render from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PASS, FAIL, SKIP, ERROR = "pass", "fail", "skip", "error"
STATUSES = (PASS, FAIL, SKIP, ERROR)


def evidence(kind: str, name: str, url: str = "", **facts: Any) -> dict[str, Any]:
    """One object a verdict looked at: plain data only, so it crosses from xdist workers."""
    item: dict[str, Any] = {"kind": kind, "name": str(name)}
    if url:
        item["url"] = url
    for key, value in facts.items():
        if value is not None:
            item[key] = value
    return item


@dataclass
class Verdict:
    status: str
    reason: str
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown verdict status {self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.status, "reason": self.reason, "evidence": list(self.evidence)}


def passed(reason: str, ev: list[dict[str, Any]] | None = None) -> Verdict:
    return Verdict(PASS, reason, ev or [])


def failed(reason: str, ev: list[dict[str, Any]] | None = None) -> Verdict:
    return Verdict(FAIL, reason, ev or [])


def skipped(reason: str, ev: list[dict[str, Any]] | None = None) -> Verdict:
    return Verdict(SKIP, reason, ev or [])


def errored(reason: str, ev: list[dict[str, Any]] | None = None) -> Verdict:
    return Verdict(ERROR, reason, ev or [])

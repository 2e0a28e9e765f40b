"""The warm-transfer summary as the console shows it: one list of labelled fields (a new summary field is one line here)."""

from __future__ import annotations

from dataclasses import dataclass

from frontdoor.console.formatting import reason_label
from frontdoor.handoff.summary import WarmTransferSummary


@dataclass(frozen=True)
class Item:
    text: str
    detail: str = ""


@dataclass(frozen=True)
class SummaryField:
    """One labelled line of the summary: a text, or a list of items; ``key`` names it on the page."""

    key: str
    label: str
    text: str = ""
    items: tuple[Item, ...] = ()


def summary_fields(summary: WarmTransferSummary) -> list[SummaryField]:
    """Every field of ``summary`` an agent reads, most useful first; empty ones are left out."""
    fields = [
        SummaryField("caller", "Caller", summary.caller.describe()),
        SummaryField("number", "Number", summary.caller.number or "withheld"),
        SummaryField("issue", "Issue", summary.issue),
        SummaryField("system", "System", summary.system or ""),
        SummaryField("impact", "Impact", summary.impact or ""),
        SummaryField("deadline", "Deadline", summary.deadline or ""),
        SummaryField("tried", "Already tried", items=tuple(Item(line) for line in summary.tried)),
        SummaryField("state", "Caller seems", summary.caller_state if summary.caller_state != "calm" else ""),
        SummaryField("handed-off", "Handed off", summary.why),
        SummaryField("why", "Evidence", items=tuple(Item(e.what, f"turn {e.turn + 1}, {reason_label(e.signal)}") for e in summary.evidence)),
        SummaryField("said", "What they said", items=tuple(Item(line) for line in summary.said)),
        SummaryField("told", "Already told", items=tuple(Item(line) for line in summary.told)),
        SummaryField("do-not-ask", "Don't ask again", items=tuple(Item(item) for item in summary.do_not_ask)),
    ]
    return [field for field in fields if field.text or field.items]

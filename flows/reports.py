"""What the flows show people: markdown and tables for artifacts and the review pause (pure rendering)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pggit_core.service import (
    IntentConflict,
    IntentView,
    MergeConflict,
    MergeOutcome,
    MigrationOutcome,
    ReviewPacket,
    WaitingProposal,
)


def artifact_key(intent_id: int, what: str) -> str:
    """Artifact keys link back to the intent: `intent-<id>-<what>` (lowercase, digits and dashes only)."""
    return f"intent-{intent_id}-{what}"


def _fence(text: str, language: str = "sql") -> str:
    longest = max((len(run) for run in text.split("\n") if set(run) == {"`"}), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def intent_line(intent: IntentView) -> str:
    return (f"intent **{intent.id}** `{intent.agent_id}` / `{intent.feature_name}` on branch "
            f"`{intent.branch_name}` ({intent.status}, risk {intent.risk_level})")


def conflict_rows(conflicts: Sequence[IntentConflict]) -> list[dict[str, Any]]:
    return [
        {"conflict": c.id, "other_intent": c.other_intent_id, "type": c.conflict_type, "severity": c.severity,
         "objects": ", ".join(c.affected_objects), "suggestions": " / ".join(c.resolution_suggestions),
         "reviewed": c.reviewed}
        for c in conflicts
    ]


def merge_conflict_rows(conflicts: Sequence[MergeConflict]) -> list[dict[str, Any]]:
    return [
        {"conflict": c.id, "object": c.object_key, "type": c.conflict_type, "severity": c.severity,
         "resolved": c.resolved, "advice": c.advice}
        for c in conflicts
    ]


def diff_markdown(packet: ReviewPacket) -> str:
    lines = [f"## Changes of {intent_line(packet.intent)}", ""]
    if not packet.diff and not packet.statements:
        lines.append("Nothing changed on the branch since it was made.")
        return "\n".join(lines)
    objects: dict[str, tuple[str, tuple[str, ...]]] = {}
    for line in packet.diff:
        if line.change != "rebuilt":
            objects.setdefault(line.object_key, (line.change, line.fields))
    if objects:
        lines += ["| object | change | fields |", "| --- | --- | --- |"]
        lines += [f"| `{_cell(key)}` | {change} | {_cell(', '.join(fields))} |"
                  for key, (change, fields) in objects.items()]
        lines += ["", "SQL that brings these changes (dependency order):", "",
                  _fence("\n".join(d.statement.rstrip().rstrip(";") + ";" for d in packet.diff)), ""]
    if packet.statements:
        lines += [f"DDL the agent committed on `{packet.intent.branch_name}`:", "",
                  _fence("\n".join(s.rstrip().rstrip(";") + ";" for s in packet.statements))]
    return "\n".join(lines)


def review_markdown(packet: ReviewPacket) -> str:
    """The pause description: the diff, the intent conflicts and the open merge conflicts, and what to answer."""
    parts = [diff_markdown(packet), ""]
    if packet.intent_conflicts:
        parts += ["### Conflicts with other intents", "",
                  "| id | other intent | type | severity | objects | reviewed |",
                  "| --- | --- | --- | --- | --- | --- |"]
        parts += [f"| {c.id} | {c.other_intent_id} | {c.conflict_type} | {c.severity} | "
                  f"{_cell(', '.join(c.affected_objects))} | {'yes' if c.reviewed else 'no'} |"
                  for c in packet.intent_conflicts]
        parts.append("")
    open_merge = [c for c in packet.merge_conflicts if not c.resolved]
    if open_merge:
        parts += ["### Merge conflicts still open (the merge will stop on them)", "",
                  "| id | object | type | severity | advice |", "| --- | --- | --- | --- | --- |"]
        parts += [f"| {c.id} | `{_cell(c.object_key)}` | {c.conflict_type} | {c.severity} | {_cell(c.advice)} |"
                  for c in open_merge]
        parts.append("")
    parts.append("Approve to merge into `main` and write the migration; reject (with a comment) to abandon the "
                 "intent and drop its branch.")
    return "\n".join(parts)


def proposals_markdown(waiting: Sequence[WaitingProposal]) -> str:
    """The LLM proposals that approving the review applies (each validated again against main first)."""
    parts = ["### LLM proposals waiting for your approval", "",
             "Approving the review approves these too: each is validated again against `main` as it is then and "
             "recorded as its conflict's resolution; one that no longer validates stays open for a human.", ""]
    for w in waiting:
        c = w.conflict
        parts += [f"**Conflict {c.id}** `{_cell(c.object_key)}` ({c.conflict_type}, {c.severity}): proposal by "
                  f"`{w.model}`, confidence {w.confidence:.2f}. {w.rationale}", "",
                  _fence("\n".join(s.rstrip().rstrip(";") + ";" for s in w.statements)), ""]
    return "\n".join(parts)


def merge_markdown(intent: IntentView, outcome: MergeOutcome) -> str:
    if outcome.merged:
        return (f"Merged {intent_line(intent)} into `main` (merge {outcome.merge_id}, "
                f"{outcome.statements_applied} statements applied).")
    rows = "\n".join(f"| {c.id} | `{_cell(c.object_key)}` | {c.conflict_type} | {c.severity} | {_cell(c.advice)} |"
                     for c in outcome.conflicts)
    return (f"Merge of {intent_line(intent)} stopped on conflicts; `main` is unchanged.\n\n"
            "| id | object | type | severity | advice |\n| --- | --- | --- | --- | --- |\n" + rows)


def migration_markdown(migration: MigrationOutcome) -> str:
    parts = [f"## Migration `{migration.version}_{migration.name}`", "",
             "Files: " + ", ".join(f"`{f}`" for f in migration.files), ""]
    if migration.hazards:
        parts += ["Hazards:", ""] + [f"- {h}" for h in migration.hazards] + [""]
    parts += ["### up", "", _fence(migration.up_sql), "", "### down", "", _fence(migration.down_sql)]
    return "\n".join(parts)

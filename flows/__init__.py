"""Prefect flows: orchestration only (order tasks, pause for review, report artifacts)."""

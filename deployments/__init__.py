"""Prefect deployments of the flows: prefect.yaml, the one-process server, and the launch helper for agents."""

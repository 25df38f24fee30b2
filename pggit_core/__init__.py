"""pggit-flows: Git-style branching, merging and coordination of PostgreSQL schema changes."""

__version__ = "0.1.0"

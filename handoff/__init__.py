"""Handoff intelligence: detection, policy, warm-transfer summaries, notifications, the agent console."""

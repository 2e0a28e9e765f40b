"""The agent console: server-rendered pages under ``/agent`` for the people who take the handoffs."""

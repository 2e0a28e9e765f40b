"""Known system incidents: the shipped file, the database, an optional Statuspage feed, and matching."""

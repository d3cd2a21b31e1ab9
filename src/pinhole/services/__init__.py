"""Business rules, written once and called by every API dialect."""

"""Drive: the Builder's testme workflow (guardrails, post, watch)."""

"""The isolation plan: the fewest changes that cut every path from non-production, sandbox and external
principals to production admin, each checked by re-analysis of the changed snapshot (issue 12 §3)."""

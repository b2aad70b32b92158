"""Rule authoring: rule tests and coverage, what-if, synthetic cases, kb diffs, corpus summaries."""

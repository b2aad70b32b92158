"""Batch decisions: many cases in, one JSON line each out, in parallel and in flat memory."""

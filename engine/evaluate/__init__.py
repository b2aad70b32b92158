"""Evaluation: the Program API (facts in, answers out through pyDatalog) and the provenance model."""

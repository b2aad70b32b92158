"""Decisions: a case against a knowledge base, its determinations, reasons and documentation requests."""

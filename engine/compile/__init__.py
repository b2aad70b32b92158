"""Compilation: the checked AST lowered to core clauses and built into pyDatalog through its Python objects."""

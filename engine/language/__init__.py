"""The rule language: grammar, parser, syntax tree, field paths."""

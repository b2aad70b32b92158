"""Presentation: text, Markdown and HTML views of decisions and explanations, Prolog export, the shell."""

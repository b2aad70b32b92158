"""Command groups of `warrant`, one module each; cli.py registers them."""

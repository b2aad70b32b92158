"""The knowledge base: its files, digest and cache, metadata, citations and interface predicates."""

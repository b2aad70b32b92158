"""The lowest layer's defences, shared by every layer above it.

- `limits`: resource limits (case size, nesting, stages, lines, kb file size, rule body length,
  rule chain depth, number length, template work), one table reused by case loading, kb
  loading, the report renderer and the HTTP service.
- `files`: reading inputs that must be regular files (never a FIFO or a device), writing outputs
  all or nothing through a fresh temporary file, and the private cache store whose files and
  directories are checked on the open handle before a byte is trusted.
- `text`: escaping user-supplied text for a terminal, Markdown and HTML, and short excerpts.
"""

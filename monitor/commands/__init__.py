"""The `controlwatch` command line: one module per command group over a small shared module."""

"""Where results go after a run: the result store (and so /metrics, /results), evidence, the log."""

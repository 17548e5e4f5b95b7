"""Stage 1 of the flow: the one YAML file, read with line numbers and validated into typed models."""

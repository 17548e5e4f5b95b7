"""Firewall and network exposure controls (FW-01 to FW-10). Placeholder until written."""

"""Drift: approved baselines, the Admin Activity poller, drift tracking and who-changed-what attribution."""

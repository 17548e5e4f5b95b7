"""Drift: approved baselines and approvals given before a change, the Admin Activity poller,
drift tracking and who-changed-what attribution, and the live state the daemon serves to
`controlwatch baseline diff`."""

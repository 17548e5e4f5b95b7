"""What the controls of one area share: how to read that area's API data, kept apart from the
judgements, one module per area (network for the FW controls, iam, schedules for BKP and
DRIFT, locations for REG, log_filters for LOG). Unreadable data raises `kernel.Unjudgeable`."""

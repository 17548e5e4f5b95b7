"""Stage 2: when and how each scope runs — plans, the scheduler, one run of one scope, accepted risks."""

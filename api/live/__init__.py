"""Live fan-out: one LISTEN per process, bounded rings, and live streams shared by identical
subscriptions."""

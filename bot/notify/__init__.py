"""Alerts: raising them, rendering, channels, delivery, escalation timers and office hours."""

"""The audit-log screen."""

"""Agam (আগাম, "in advance"): anticipatory-action dashboard for Bangladesh's ASP."""

__version__ = "0.1.0"

"""Foundation shared by every layer: errors, settings, time helpers."""

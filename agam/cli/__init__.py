"""The `agam` command line."""

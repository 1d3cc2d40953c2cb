"""Bundled scenarios: upstream files in the real formats, served to the real fetchers."""

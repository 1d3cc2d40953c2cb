"""The only place that sees feeds, store and rules together: ingest -> evaluate -> propose."""

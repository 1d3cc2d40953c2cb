"""What is coming: one module per upstream source, a shared contract and HTTP session."""

"""HTTP APIs: shared plumbing here, one package per API dialect."""

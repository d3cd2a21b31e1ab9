"""Concurrency building blocks: the bounded image worker pool and single-flight execution."""

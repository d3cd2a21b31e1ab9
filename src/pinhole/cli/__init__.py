"""The `pinhole` command."""

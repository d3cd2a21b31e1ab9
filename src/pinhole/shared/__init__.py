"""State shared between pinhole instances through Redis, each use falling back to in-process state when it is down."""

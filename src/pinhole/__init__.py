"""pinhole: self-hosted image hosting and delivery."""

__version__ = "0.1.0"

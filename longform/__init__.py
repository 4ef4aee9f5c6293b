"""longform: make language models write long."""

__version__ = "0.1.0"

"""netsupport: who stands by an account in trouble, how strongly, and what happens around it."""

__version__ = "0.1.0"

"""netsupport: who stands by an account in a crisis, how strongly, and what happens to the institution."""

__version__ = "0.1.0"

"""A production-like Jenjang stack on one machine (``python -m stack.run``; docs/stack.md)."""

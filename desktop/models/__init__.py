"""Domain and storage: pure Python, never Qt (tests/unit/test_architecture.py enforces it)."""

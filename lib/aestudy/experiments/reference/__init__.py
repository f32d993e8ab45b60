"""The reference experiment."""

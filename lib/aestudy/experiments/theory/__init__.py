"""The theory experiment."""

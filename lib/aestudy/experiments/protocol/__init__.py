"""The protocol experiment."""

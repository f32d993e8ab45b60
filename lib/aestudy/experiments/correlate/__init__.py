"""The correlate experiment."""

"""The interpolate experiment."""

"""The transfer experiment."""

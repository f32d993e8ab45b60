"""The semisup experiment."""

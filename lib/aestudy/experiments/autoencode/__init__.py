"""The autoencode experiment."""

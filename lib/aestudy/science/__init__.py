"""What a run computes: imported by the run notebooks; knows nothing of the runner or the report."""

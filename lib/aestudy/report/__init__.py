"""The report: reads what the runs wrote under reports/<profile>/; editing it never re-executes a run."""

"""The report: reads what the runs wrote under reports/<profile>/; editing it never re-executes a run."""

from ..import_costs import defer_iri_parser

defer_iri_parser()  # before nbformat or nbconvert is imported: 1.3-1.7 s of every render

"""Offline checks of batchops manifests, for CI before a merge (`batchops validate`).

Nothing here talks to a cluster or to AWS. Each object meets the gates it meets in a cluster,
in order: its CRD's structural schema (what the API server rejects at `kubectl apply`), the
CRD's own CEL rules evaluated on the defaulted object (`cel_rules`), and the operator's own
parsers and plans (what would make the operator mark it Stalled). Cross-object checks then look
at the given files as a whole.
"""

"""Offline checks of batchops manifests, for CI before a merge (`batchops validate`).

Nothing here talks to a cluster or to AWS. Each object is checked three ways: against its CRD's
structural schema (what the API server rejects at `kubectl apply`), against Python equivalents of
the CRD's CEL rules, and by the operator's own parsers and plans (what would make the operator
mark it Stalled). Cross-object checks then look at the given files as a whole.
"""

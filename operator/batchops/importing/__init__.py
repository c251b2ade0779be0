"""`batchops import`: existing AWS Batch infrastructure turned into batchops manifests.

Pure conversion, no I/O: `from_aws` reads Describe* output, `from_terraform` reads the text of
`.tf` files; both return an `ImportResult` (manifests.py) that `render` writes as multi-document
YAML. The command (`batchops.commands.imports`) does the AWS calls and the file reading.

Every imported compute environment and queue keeps its AWS name in `spec.name` and sets
`adopt: true`, so applying the output makes the operator take over the existing resource
instead of creating a second one.
"""

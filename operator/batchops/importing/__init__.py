"""`batchops import`: existing AWS Batch infrastructure turned into batchops manifests.

Pure conversion, no I/O: `from_aws` reads Describe* output, `from_terraform` reads the text of
`.tf` files and `from_terraform_json` the output of `terraform show -json`; each returns an
`ImportResult` (manifests.py) that `render` writes as multi-document YAML. The command
(`batchops.commands.imports`) does the AWS calls and the file reading.

The Terraform side in layers: `hcl` parses, `expressions` (with `expression_tree`,
`expression_functions`, `expression_values`) evaluates offline, `terraform_instances` expands
count/for_each/dynamic, `batch_module` reads terraform-aws-modules/batch calls, and one module
per resource type reads the fields (`terraform_compute`, `terraform_queues`,
`terraform_policies`, `terraform_job_definitions`) through `terraform_attributes`.

Every imported compute environment, queue, scheduling policy and consumable resource keeps its
AWS name in `spec.name` and sets `adopt: true`, so applying the output makes the operator take
over the existing resource instead of creating a second one.
"""

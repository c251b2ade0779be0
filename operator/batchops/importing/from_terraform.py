"""Terraform `aws_batch_*` resources -> manifests adopting the resources Terraform created.

Attributes are read into the operator's spec model, then written by the same code as an AWS
import. A reference to another compute environment or a scheduling policy of the same files
becomes a `ref:` to its object. Expressions are evaluated offline first (`expressions`:
variable defaults, locals, merge(), count/for_each instances, dynamic blocks); what is left
(data sources, other resources' attributes, variables without a default) becomes a
`REPLACE-ME` placeholder at its field path, with a note naming the file, line and expression.
Nothing aborts the import but a file that is not HCL, and nothing is dropped without a note.

This module finds the instances and puts the objects in order; each resource type's fields
are read in its own module (`terraform_compute`, `terraform_queues`, `terraform_policies`,
`terraform_job_definitions`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from batchops.importing.batch_module import is_batch_module, resources_of_batch_module
from batchops.importing.expression_values import Definition, Scope
from batchops.importing.expressions import NO_DEFAULT, evaluate
from batchops.importing.hcl import TerraformFile, TerraformModule, parse_module
from batchops.importing.manifests import ImportedObject, ImportResult
from batchops.importing.names import object_names
from batchops.importing.steps import pipeline_from_job_definitions
from batchops.importing.terraform_compute import compute_environment
from batchops.importing.terraform_instances import (
    COMPUTE_ENVIRONMENT,
    CONSUMABLE_RESOURCE,
    IMPORTED_TYPES,
    JOB_DEFINITION,
    JOB_QUEUE,
    SCHEDULING_POLICY,
    ResourceInstance,
    expand_instances,
)
from batchops.importing.terraform_job_definitions import job_definition
from batchops.importing.terraform_policies import consumable_resource, scheduling_policy
from batchops.importing.terraform_queues import ImportedNames, job_queue

_Reader = Callable[[ResourceInstance, str, str | None, str | None], ImportedObject]
"""How one resource type's instance becomes its manifest (object name, region, namespace)."""


def import_from_terraform(
    files: Sequence[TerraformFile],
    *,
    region: str | None = None,
    namespace: str | None = None,
    variables: Mapping[str, object] | None = None,
) -> ImportResult:
    """Manifests for the compute environments, scheduling policies, job queues, consumable
    resources and job definitions of `files`, and of the terraform-aws-modules/batch module
    calls in them.

    `variables` are values given on the command line (they win over defaults, as `-var` does).
    `region` defaults to the files' `provider "aws"` region, if known.
    Raises TerraformError only for a file that is not HCL.
    """
    module = parse_module(files)
    scope = _scope(module, variables or {})
    region = region or _provider_region(module, scope)
    warnings: list[str] = []
    instances: list[ResourceInstance] = []
    for resource in module.resources:
        if resource.type in IMPORTED_TYPES:
            instances += expand_instances(resource, scope, module, warnings)
    for call in module.modules:
        source = call.body.get("source")
        if is_batch_module(source):
            found = resources_of_batch_module(call, evaluate(call.body, scope), warnings)
            instances += [
                ResourceInstance(r, r.body, r.label.replace('this["', "").rstrip('"]'), ())
                for r in found
            ]
        else:
            warnings.append(
                f"{call.where}: module.{call.label} (source {source!r}) not imported: batchops "
                "reads the inputs of terraform-aws-modules/batch only. Import what it creates "
                "with --from-aws, or list its aws_batch_* resources in the files"
            )
    return import_instances(instances, region=region, namespace=namespace, warnings=warnings)


def import_instances(
    instances: Sequence[ResourceInstance],
    *,
    region: str | None,
    namespace: str | None,
    warnings: Sequence[str] = (),
) -> ImportResult:
    """Manifests for resource instances whose bodies are already evaluated: the part of the
    import the `.tf` reader and the `terraform show -json` reader share."""
    of_type = {kind: [i for i in instances if i.resource.type == kind] for kind in IMPORTED_TYPES}
    names = {kind: object_names(i.base for i in found) for kind, found in of_type.items()}

    def read(kind: str, reader: _Reader) -> list[ImportedObject]:
        return [reader(i, names[kind][i.base], region, namespace) for i in of_type[kind]]

    environments = read(COMPUTE_ENVIRONMENT, compute_environment)
    policies = read(SCHEDULING_POLICY, scheduling_policy)
    ce_names = ImportedNames.of(of_type[COMPUTE_ENVIRONMENT], environments)
    policy_names = ImportedNames.of(of_type[SCHEDULING_POLICY], policies)
    queues = [
        job_queue(i, names[JOB_QUEUE][i.base], ce_names, policy_names, region, namespace)
        for i in of_type[JOB_QUEUE]
    ]
    resources = read(CONSUMABLE_RESOURCE, consumable_resource)
    objects = [*environments, *policies, *queues, *resources]
    definitions = of_type[JOB_DEFINITION]
    pipeline = pipeline_from_job_definitions(
        [job_definition(i, region) for i in definitions],
        queues[0].manifest["metadata"]["name"] if queues else None,
        ", ".join(dict.fromkeys(f"{i.resource.file}: {JOB_DEFINITION}" for i in definitions)),
        namespace,
    )
    return ImportResult(tuple(objects), pipeline, tuple(warnings))


def _scope(module: TerraformModule, given: Mapping[str, object]) -> Scope:
    variables: dict[str, Definition] = {}
    for variable in module.variables:
        default = variable.body.get("default", NO_DEFAULT)
        variables[variable.label] = Definition(
            default, f'the default of variable "{variable.label}" ({variable.where})'
        )
    for name, value in given.items():
        variables[name] = Definition(value, f"the value given for {name}")
    locals_ = {
        block.label: Definition(block.body["value"], f"locals ({block.where})")
        for block in module.locals
    }
    return Scope(variables, locals_)


def _provider_region(module: TerraformModule, scope: Scope) -> str | None:
    if module.provider_region:
        return module.provider_region
    return None

# Shape: reusable in-house modules. Everything arrives through variables without defaults
# (tags = var.tags, max_vcpus = var.max_vcpus, parameters = var.parameters), so every value is
# a placeholder, but the resources are still imported.
variable "name" {}
variable "tags" {}
variable "max_vcpus" {}
variable "vcpu" {}
variable "parameters" {}

resource "aws_batch_compute_environment" "this" {
  name = var.name
  type = "MANAGED"

  compute_resources {
    type      = "FARGATE"
    max_vcpus = var.max_vcpus
    subnets   = var.subnets
    security_group_ids = var.security_group_ids
  }

  tags = merge(var.tags, { managed_by = "terraform" })
}

resource "aws_batch_job_definition" "this" {
  name                  = "${var.name}-job"
  type                  = "container"
  platform_capabilities = ["FARGATE"]
  parameters            = var.parameters
  tags                  = var.tags

  container_properties = jsonencode({
    image   = "${var.image}:latest"
    command = ["run", "Ref::input"]
    resourceRequirements = [
      { type = "VCPU", value = tostring(var.vcpu) },
      { type = "MEMORY", value = "2048" },
    ]
    executionRoleArn = aws_iam_role.execution.arn
  })
}

# Shape: dynamic blocks, as the terraform-aws-modules/batch module and its copies write them:
# dynamic "compute_resources" over a one-element list, dynamic "retry_strategy" and nested
# dynamic "evaluate_on_exit" over literal maps, and one dynamic block over a variable.
locals {
  compute = {
    type      = "SPOT"
    max_vcpus = 48
    subnets   = ["subnet-0a1b2c3d"]
  }
  exits = {
    spot = { action = "RETRY", on_status_reason = "Host EC2*" }
    rest = { action = "EXIT", on_reason = "*" }
  }
}

resource "aws_batch_compute_environment" "dynamic" {
  name = "dynamic-spot"

  dynamic "compute_resources" {
    for_each = [local.compute]
    content {
      type                = compute_resources.value.type
      allocation_strategy = "SPOT_PRICE_CAPACITY_OPTIMIZED"
      max_vcpus           = compute_resources.value.max_vcpus
      instance_type       = ["optimal"]
      instance_role       = "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"
      subnets             = compute_resources.value.subnets
      security_group_ids  = ["sg-0a1b2c3d"]
    }
  }
}

resource "aws_batch_job_definition" "retried" {
  name = "retried"
  type = "container"
  container_properties = jsonencode({
    image  = "public.ecr.aws/docker/library/busybox:1.36"
    vcpus  = 1
    memory = 512
  })

  dynamic "retry_strategy" {
    for_each = [3]
    iterator = retry
    content {
      attempts = retry.value
      dynamic "evaluate_on_exit" {
        for_each = local.exits
        content {
          action           = evaluate_on_exit.value.action
          on_reason        = lookup(evaluate_on_exit.value, "on_reason", null)
          on_status_reason = lookup(evaluate_on_exit.value, "on_status_reason", null)
        }
      }
    }
  }

  dynamic "timeout" {
    for_each = var.timeout == null ? [] : [var.timeout]
    content {
      attempt_duration_seconds = timeout.value
    }
  }
}

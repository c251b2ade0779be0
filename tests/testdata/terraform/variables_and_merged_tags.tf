# Shape: most team repositories. Sizes come from variables with defaults, tags from a locals map
# merged with per-resource tags, subnets from a variable without a default (tfvars at apply).
variable "max_vcpus" {
  type    = number
  default = 64
}

variable "subnet_ids" {
  type = list(string)
}

variable "environment" {
  default = "prod"
}

locals {
  prefix = "genomics-${var.environment}"
  tags = {
    team        = "genomics"
    environment = var.environment
  }
}

resource "aws_batch_compute_environment" "spot" {
  compute_environment_name = "${local.prefix}-spot"
  type                     = "MANAGED"
  service_role             = aws_iam_role.batch_service.arn

  compute_resources {
    type                = "SPOT"
    allocation_strategy = "SPOT_CAPACITY_OPTIMIZED"
    bid_percentage      = 100
    max_vcpus           = var.max_vcpus
    min_vcpus           = 0
    instance_type       = ["optimal"]
    instance_role       = aws_iam_instance_profile.ecs.arn
    subnets             = var.subnet_ids
    security_group_ids  = [aws_security_group.batch.id]
    tags                = merge(local.tags, { Name = "${local.prefix}-worker" })
  }

  tags = merge(local.tags, { component = "compute" })
}

resource "aws_batch_job_queue" "default" {
  name     = "${local.prefix}-queue"
  state    = "ENABLED"
  priority = 1

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.spot.arn
  }

  tags = local.tags
}

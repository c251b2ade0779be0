# Shape: fair-share scheduling and a licence pool as the AWS provider's documentation writes
# them: aws_batch_scheduling_policy with a fair_share_policy block and repeated
# share_distribution blocks (one set by a dynamic block over a local map), a queue naming the
# policy by its arn, a queue naming a policy made elsewhere (a data source), a policy whose
# decay comes from a variable without a default, and aws_batch_consumable_resource (provider v6)
# sized by a variable with a default, tags merged from locals as most real code does.
locals {
  prefix = "genomics"
  tags   = { team = "genomics" }
  teams = {
    etl   = 0.5
    adhoc = 2
  }
}

variable "licence_seats" {
  type    = number
  default = 8
}

variable "decay_seconds" {
  type = number
}

resource "aws_batch_scheduling_policy" "teams" {
  name = "${local.prefix}-fair-share"

  fair_share_policy {
    compute_reservation = 20
    share_decay_seconds = 3600

    share_distribution {
      share_identifier = "nightly*"
      weight_factor    = 0.25
    }

    dynamic "share_distribution" {
      for_each = local.teams
      content {
        share_identifier = share_distribution.key
        weight_factor    = share_distribution.value
      }
    }
  }

  tags = merge(local.tags, { Name = "teams" })
}

resource "aws_batch_scheduling_policy" "nightly" {
  name = "${local.prefix}-nightly"

  fair_share_policy {
    share_decay_seconds = var.decay_seconds
  }
}

resource "aws_batch_compute_environment" "spot" {
  name = "${local.prefix}-spot"
  type = "MANAGED"

  compute_resources {
    type                = "SPOT"
    allocation_strategy = "SPOT_PRICE_CAPACITY_OPTIMIZED"
    max_vcpus           = 64
    instance_type       = ["optimal"]
    subnets             = ["subnet-0a1b2c3d"]
    security_group_ids  = ["sg-0a1b2c3d"]
    instance_role       = "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"
  }
}

resource "aws_batch_job_queue" "fair" {
  name                  = "${local.prefix}-fair"
  state                 = "ENABLED"
  priority              = 10
  scheduling_policy_arn = aws_batch_scheduling_policy.teams.arn

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.spot.arn
  }

  tags = local.tags
}

data "aws_batch_scheduling_policy" "shared" {
  arn = "arn:aws:batch:us-east-1:123456789012:scheduling-policy/shared"
}

resource "aws_batch_job_queue" "shared" {
  name                  = "${local.prefix}-shared"
  state                 = "ENABLED"
  priority              = 1
  scheduling_policy_arn = data.aws_batch_scheduling_policy.shared.arn
  compute_environments  = [aws_batch_compute_environment.spot.arn]
}

resource "aws_batch_consumable_resource" "licences" {
  name           = "${local.prefix}-licence-seats"
  resource_type  = "REPLENISHABLE"
  total_quantity = var.licence_seats
  tags           = local.tags
}

# Shape: count and for_each over variables without defaults (length(var.subnet_groups),
# var.queues): the instances are only known to Terraform.
variable "queues" {
  type = map(number)
}

resource "aws_batch_compute_environment" "per_group" {
  count = length(var.subnet_groups)

  name = "group-${count.index}"
  compute_resources {
    type               = "EC2"
    max_vcpus          = 32
    instance_type      = ["optimal"]
    instance_role      = "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"
    subnets            = var.subnet_groups[count.index]
    security_group_ids = ["sg-0a1b2c3d"]
  }
}

resource "aws_batch_job_queue" "named" {
  for_each = var.queues

  name     = each.key
  priority = each.value
  state    = "ENABLED"
  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.per_group[0].arn
  }
}

# Shape: one resource block for several environments or queues: count over a literal number,
# for_each over a literal map and over toset([...]), each instance named by index or key.
resource "aws_batch_compute_environment" "worker" {
  count = 2

  name = "worker-${count.index}"
  type = "MANAGED"

  compute_resources {
    type               = "EC2"
    max_vcpus          = 16 * (count.index + 1)
    instance_type      = ["m5.large"]
    instance_role      = "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"
    subnets            = ["subnet-0a1b2c3d"]
    security_group_ids = ["sg-0a1b2c3d"]
  }
}

resource "aws_batch_job_queue" "tier" {
  for_each = {
    high = 100
    low  = 1
  }

  name     = "${each.key}-priority"
  state    = "ENABLED"
  priority = each.value

  compute_environment_order {
    order               = 0
    compute_environment = aws_batch_compute_environment.worker[0].arn
  }
  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.worker[1].arn
  }
}

resource "aws_batch_job_definition" "tool" {
  for_each = toset(["align", "call"])

  name = "tool-${each.key}"
  type = "container"
  container_properties = jsonencode({
    image   = "public.ecr.aws/docker/library/busybox:1.36"
    command = ["echo", each.value]
    vcpus   = 2
    memory  = 4096
  })
}

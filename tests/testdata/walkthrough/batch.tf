# The batch.tf of the AWS Batch walkthrough batchops grew from (section "5. Terraform Code" of
# /work/shared/walkthrough/aws-batch-walkthrough.ko.md), copied verbatim: the fixture of
# `batchops import --from-terraform`. It references role.tf, subnet.tf and security_group.tf,
# which are not here, so their data sources become placeholders.
resource "aws_batch_compute_environment" "env_72" {
  compute_environment_name = "env_72"

  compute_resources {
    instance_role = "${data.aws_iam_instance_profile.AWSEC2ContainerServiceForEC2Policy.arn}"
    spot_iam_fleet_role  = "${data.aws_iam_role.AWSServiceRoleForEC2SpotFleet.arn}"

    instance_type = [
      "c5.18xlarge",
      "m5.24xlarge",
      "m5.12xlarge"
    ]

    max_vcpus = 256
    min_vcpus = 0

    security_group_ids = [
      "${data.aws_security_group.default_sg.id}",
    ]

    subnets = [
      "${data.aws_subnet.subnet_default.id}",
    ]

    type = "EC2"
  }

  service_role = "${data.aws_iam_role.AWSBatchServiceRole.arn}"
  type         = "MANAGED"
}

resource "aws_batch_compute_environment" "env_simple" {
  compute_environment_name = "env_simples"

  compute_resources {
    instance_role = "${data.aws_iam_instance_profile.AWSEC2ContainerServiceForEC2Policy.arn}"
    spot_iam_fleet_role  = "${data.aws_iam_role.AWSServiceRoleForEC2SpotFleet.arn}"

    instance_type = [
      "r3.xlarge"
    ]

    max_vcpus = 256
    min_vcpus = 0

    security_group_ids = [
      "${data.aws_security_group.default_sg.id}",
    ]

    subnets = [
      "${data.aws_subnet.subnet_default.id}",
    ]

    type = "EC2"
  }

  service_role = "${data.aws_iam_role.AWSBatchServiceRole.arn}"
  type         = "MANAGED"
}

resource "aws_batch_job_queue" "queue_72" {
  name                 = "queue_72"
  state                = "ENABLED"
  priority             = 100
  compute_environments = ["${aws_batch_compute_environment.env_72.arn}"]
}

resource "aws_batch_job_queue" "queue_simple" {
  name                 = "queue_simple"
  state                = "ENABLED"
  priority             = 100
  compute_environments = ["${aws_batch_compute_environment.env_simple.arn}"]
}

resource "aws_batch_job_definition" "Job1" {
  name = "Job1"
  type = "container"

  container_properties = <<CONTAINER_PROPERTIES
{
    "command": ["python", "src/run1.py"],
    "image": "${data.aws_ecr_repository.batch_image.repository_url}:latest",
    "memory": 102400,
    "vcpus": 72
}
CONTAINER_PROPERTIES
}

resource "aws_batch_job_definition" "Job2" {
  name = "Job2"
  type = "container"

  container_properties = <<CONTAINER_PROPERTIES
{
    "command": ["python", "src/run1.py"],
    "image": "${data.aws_ecr_repository.batch_image.repository_url}:latest",
    "memory": 1024,
    "vcpus": 1
}
CONTAINER_PROPERTIES
}

resource "aws_batch_job_definition" "Job3" {
  name = "Job3"
  type = "container"

  container_properties = <<CONTAINER_PROPERTIES
{
    "command": ["python", "src/run3.py"],
    "image": "${data.aws_ecr_repository.batch_image.repository_url}:latest",
    "memory": 102400,
    "vcpus": 72
}
CONTAINER_PROPERTIES
}

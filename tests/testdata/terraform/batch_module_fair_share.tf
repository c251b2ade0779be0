# Shape: terraform-aws-modules/batch with fair-share queues, as its README and ec2 example write
# them: each queue's scheduling policy is nested under the queue (fair_share_policy with
# share_distribution as a list of objects, or as a map of them) and created by the module unless
# create_scheduling_policy = false; module-wide tags; no IAM roles created by the module.
module "research_batch" {
  source  = "terraform-aws-modules/batch/aws"
  version = "~> 2.0"

  create_service_iam_role  = false
  create_instance_iam_role = false

  compute_environments = {
    ec2 = {
      name         = "research-ec2"
      service_role = "arn:aws:iam::123456789012:role/AWSBatchServiceRole"
      compute_resources = {
        type               = "EC2"
        max_vcpus          = 32
        instance_types     = ["m5.large"]
        instance_role      = "arn:aws:iam::123456789012:instance-profile/ecsInstanceRole"
        security_group_ids = ["sg-0a1b2c3d"]
        subnets            = ["subnet-0a1b2c3d"]
      }
    }
  }

  job_queues = {
    high = {
      name     = "ResearchHigh"
      state    = "ENABLED"
      priority = 99

      fair_share_policy = {
        compute_reservation = 1
        share_decay_seconds = 3600
        share_distribution = [{
          share_identifier = "A1*"
          weight_factor    = 0.1
          }, {
          share_identifier = "A2"
          weight_factor    = 0.2
        }]
      }
    }

    low = {
      name     = "ResearchLow"
      state    = "ENABLED"
      priority = 1

      fair_share_policy = {
        share_distribution = {
          batch = { share_identifier = "batch" }
        }
      }

      tags = { tier = "low" }
    }

    fifo = {
      name                     = "ResearchFifo"
      state                    = "ENABLED"
      priority                 = 5
      create_scheduling_policy = false
    }
  }

  tags = { project = "research" }
}

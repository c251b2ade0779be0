# Shape: the terraform-aws-modules/batch module called from a root module, as its README and
# examples do: compute environments, queues (one with an explicit list of environments) and job
# definitions as maps, module-wide tags from locals; next to a module batchops cannot read.
locals {
  tags = { project = "etl" }
}

module "batch" {
  source  = "terraform-aws-modules/batch/aws"
  version = "~> 2.0"

  compute_environments = {
    a_ec2 = {
      name_prefix = "ec2"
      compute_resources = {
        type               = "EC2"
        min_vcpus          = 0
        max_vcpus          = 16
        instance_types     = ["m5.large"]
        security_group_ids = [module.vpc.default_security_group_id]
        subnets            = module.vpc.private_subnets
      }
    }
    b_spot = {
      name = "etl-spot"
      compute_resources = {
        type                = "SPOT"
        allocation_strategy = "SPOT_CAPACITY_OPTIMIZED"
        bid_percentage      = 50
        max_vcpus           = 32
        instance_types      = ["m5.large", "r5.large"]
        security_group_ids  = ["sg-0a1b2c3d"]
        subnets             = ["subnet-0a1b2c3d"]
      }
    }
  }

  job_queues = {
    main = {
      name                     = "EtlMain"
      state                    = "ENABLED"
      priority                 = 10
      create_scheduling_policy = false
      compute_environments     = ["b_spot", "a_ec2"]
    }
  }

  job_definitions = {
    extract = {
      name           = "etl-extract"
      propagate_tags = true
      container_properties = jsonencode({
        image   = "public.ecr.aws/docker/library/python:3.12"
        command = ["python", "extract.py"]
        resourceRequirements = [
          { type = "VCPU", value = "1" },
          { type = "MEMORY", value = "2048" },
        ]
      })
      attempt_duration_seconds = 3600
      retry_strategy = {
        attempts = 2
        evaluate_on_exit = {
          spot = { action = "RETRY", on_status_reason = "Host EC2*" }
        }
      }
    }
  }

  tags = local.tags
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.0"
  name    = "etl"
}

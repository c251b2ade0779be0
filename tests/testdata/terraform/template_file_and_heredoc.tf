# Shape: older genomics pipelines. container_properties rendered by data.template_file (only
# Terraform knows it), and heredoc JSON with interpolations, one with an unquoted number and an
# end marker followed by spaces (valid HCL that python-hcl2 8 alone rejects).
data "template_file" "job" {
  template = file("${path.module}/job.json.tpl")
  vars = {
    image = var.image
  }
}

resource "aws_batch_job_definition" "templated" {
  name                 = "templated"
  type                 = "container"
  container_properties = data.template_file.job.rendered
}

resource "aws_batch_job_definition" "heredoc" {
  name = "heredoc"
  type = "container"
  container_properties = <<CONTAINER
{
  "image": "${var.repository_url}:latest",
  "command": ["bash", "run.sh"],
  "vcpus": ${var.vcpus},
  "memory": 2048
}
CONTAINER   
}

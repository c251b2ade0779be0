"""batchops: keep AWS Batch in step with Kubernetes custom resources."""

__version__ = "0.1.0"

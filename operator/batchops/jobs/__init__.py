"""The job machinery every pipeline shares: which jobs are being watched and their latest state
(`watch`), the DescribeJobs poller (`poller`), the SQS event consumer (`consumer`), cached
DescribeJobs for reconcile passes (`describer`) and the job-definition catalog (`catalog`).

Below `reconcile`, above `aws`: these modules hold process-wide caches and loops, never kopf.
"""

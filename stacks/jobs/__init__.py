"""Jobs component: images, execution role, security group, submitter policy and the job-config contract."""

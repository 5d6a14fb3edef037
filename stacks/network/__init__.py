"""Network component: the VPC, its subnets, VPC endpoints and flow logs."""

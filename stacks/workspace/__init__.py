"""RStudio Server on EC2: host, home directories, access, idle stop."""

"""RStudio Server on EC2 (issue 6): host, home directories, access, idle stop."""

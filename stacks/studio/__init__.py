"""RStudio on a SageMaker Domain: domain, user profiles and roles, RSession image, lifecycle."""

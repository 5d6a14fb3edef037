"""RStudio on a SageMaker Domain (issue 13): domain, user profiles and roles, RSession image, lifecycle."""

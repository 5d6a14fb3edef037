"""Data component: the bucket for job code, inputs and results."""

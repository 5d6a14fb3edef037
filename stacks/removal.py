"""What `cdk destroy` does with stateful resources: one decision, made by the `delete_data_on_destroy` setting."""

from __future__ import annotations

import aws_cdk as cdk


def removal_policy(delete_on_destroy: bool) -> cdk.RemovalPolicy:
    """Data (bucket, EFS homes, user images, flow logs) is kept on destroy unless the admin opted in."""
    return cdk.RemovalPolicy.DESTROY if delete_on_destroy else cdk.RemovalPolicy.RETAIN

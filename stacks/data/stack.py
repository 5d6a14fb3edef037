"""Deployment unit for the data; other stacks take `DataStack.data`. Kept apart so that replacing the
network or job infrastructure never touches the bucket."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from stacks.data.construct import Data
from stacks.settings import Settings


class DataStack(cdk.Stack):
    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings, **kwargs: Any) -> None:
        super().__init__(
            scope,
            construct_id,
            description=f"{settings.platform_name}: bucket for job code, inputs and results",
            **kwargs,
        )
        self.data = Data(self, "Data", delete_on_destroy=settings.delete_data_on_destroy)
        cdk.CfnOutput(self, "Bucket", value=self.data.bucket.bucket_name, description="job-config field bucket")

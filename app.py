#!/usr/bin/env python3
"""CDK entry point: settings from context, the platform's stacks, cdk-nag over all of them."""

import os
import sys

import aws_cdk as cdk

from stacks.platform import build_platform
from stacks.settings import Settings, SettingsError

app = cdk.App()
# Environment-agnostic unless the CLI knows the target account (cdk deploy with credentials).
env = cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=os.environ.get("CDK_DEFAULT_REGION"))
try:
    settings = Settings.from_context(app.node.get_all_context())
    # Some settings can only be judged with the target known (e.g. the region's RStudio images).
    build_platform(app, settings, env=env)
except SettingsError as error:
    print(f"error: {error}", file=sys.stderr)
    sys.exit(2)
app.synth()

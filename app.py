#!/usr/bin/env python3
"""CDK entry point: settings from context, the platform's stacks, cdk-nag over all of them."""

import os
import sys

# jsii's Node runtime prints an 11-line end-of-life banner (as Python byte strings) on Node 20, which works and
# which the README allows; `make` exports these too, a plain `npx cdk synth` gets them here. Set before aws_cdk
# starts the runtime; a value the user exported wins.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

import aws_cdk as cdk  # noqa: E402  (after the environment above)

from stacks.platform import build_platform  # noqa: E402
from stacks.settings import Settings, SettingsError  # noqa: E402

# A warning's JavaScript stack trace points, in a Python app, only into jsii's runtime; the CLI printed its first
# frame (`../tmp/tmpXXXX/lib/program.js:1:5591`) as a stray line above each warning.
app = cdk.App(context={"aws:cdk:disable-stack-trace": True})
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

"""Synthesize every rehearsed mode in one process (one jsii start-up instead of one per mode), as app.py does
but for the emulator's account and region."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from rehearsal.emulator import ACCOUNT, REGION

# What `cdk synth` would look up in the target account and cache in cdk.context.json; moto answers the
# same two zones, written here so synthesis needs no call.
AZ_CONTEXT = {f"availability-zones:account={ACCOUNT}:region={REGION}": [f"{REGION}a", f"{REGION}b", f"{REGION}c"]}


def synthesize(contexts: Mapping[str, Mapping[str, str]], root: Path) -> dict[str, Path]:
    """mode -> cloud assembly directory (root/<mode>/cdk.out), each from its own explicit context only."""
    import aws_cdk as cdk

    from stacks.platform import build_platform
    from stacks.settings import Settings

    assemblies = {}
    for mode, context in contexts.items():
        outdir = root / mode / "cdk.out"
        if outdir.exists():
            shutil.rmtree(outdir)
        app = cdk.App(outdir=str(outdir), context={**AZ_CONTEXT, **context})
        build_platform(app, Settings.from_context(dict(context)), env=cdk.Environment(account=ACCOUNT, region=REGION))
        app.synth()
        assemblies[mode] = outdir
    return assemblies

"""image build: your own job image, FROM the bundled one, with R / Debian packages installed at build time."""

from __future__ import annotations

import argparse
import json
from typing import Any

from simulation.client import images
from simulation.client.config import PLATFORM_ENV


def register(subparsers: Any) -> None:
    image = subparsers.add_parser("image", help="build your own job image (packages installed at build time)")
    commands = image.add_subparsers(dest="image_command", required=True)
    build = commands.add_parser(
        "build", help="build FROM the bundled job image, push to the platform's user repository, print the URI"
    )
    build.add_argument("--r-packages", default="", help="CRAN packages, comma-separated (e.g. data.table,ggplot2)")
    build.add_argument("--apt", default="", help="Debian packages, comma-separated (e.g. r-cran-data.table)")
    build.add_argument("--tag", help="image tag (default: r-<hash of the recipe>, the same for the same packages)")
    build.add_argument(
        "--engine", choices=images.ENGINES, help=f"default ${images.ENGINE_ENV}, else docker, else podman"
    )
    build.add_argument("--cran", default=images.DEFAULT_CRAN, help="CRAN mirror the build installs from")
    build.add_argument("--no-push", action="store_true", help="build only (e.g. to try it with local-job --container)")
    build.add_argument("--platform", help=f"platform name (default ${PLATFORM_ENV} or simlab)")
    build.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    build.set_defaults(handler=_build)


def _build(args: argparse.Namespace) -> int:
    uri = images.build_image(
        args.r_packages,
        args.apt,
        tag=args.tag,
        platform=args.platform,
        engine=args.engine,
        cran=args.cran,
        push=not args.no_push,
    )
    print(json.dumps({"image": uri}) if args.json else uri)
    return 0

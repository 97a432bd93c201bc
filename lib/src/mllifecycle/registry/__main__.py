"""`python -m mllifecycle.registry show|register|promote|rollback` (see `make help`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import paths
from ..errors import PipelineError
from . import champion, fetch, promote, register, resolve, rollback, stages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="registry", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("show", help="what version is in each stage")
    reg = commands.add_parser("register", help="tag HEAD's packaged model as a new version")
    reg.add_argument("--bump", choices=("patch", "minor", "major"), default="patch")
    pro = commands.add_parser("promote", help="assign a version to a stage")
    pro.add_argument("version", help="for example v0.0.3")
    pro.add_argument("stage", help="staging or prod")
    back = commands.add_parser("rollback", help="withdraw the version in effect in a stage")
    back.add_argument("stage", nargs="?", default="prod")
    get = commands.add_parser("fetch", help="copy a version's package into a folder")
    get.add_argument("version", help="for example v0.0.3")
    get.add_argument("destination", type=Path)
    args = parser.parse_args(argv)
    try:
        run(args)
    except PipelineError as err:
        print(f"registry: {err}", file=sys.stderr)
        sys.exit(1)


def run(args: argparse.Namespace) -> None:
    if args.command == "show":
        for stage, placed in stages().items():
            print(f"{stage:<10} {placed}")
    elif args.command == "register":
        version = register(bump=args.bump)
        print(f"registered {version.tag} at {version.commit[:8]} (git push --tags to share it)")
    elif args.command == "promote":
        version = promote(args.version, args.stage)
        print(f"{version.tag} is now in {args.stage}")
        _remind_to_commit(args.stage)
    elif args.command == "fetch":
        folder = fetch(resolve(args.version), args.destination)
        print(f"{args.version} is in {folder}")
    else:
        withdrawn, restored = rollback(args.stage)
        print(f"{args.stage}: withdrew {withdrawn.version}, {restored.version} serves again")
        _remind_to_commit(args.stage)


def _remind_to_commit(stage: str) -> None:
    if stage == champion.STAGE:
        named = champion.read()
        print(
            f"{paths.CHAMPION} now names {named.version if named else 'no version'}: commit it "
            f"(git add {paths.CHAMPION} && git commit) so evaluate and monitor compare with it"
        )


if __name__ == "__main__":
    main()

"""`mllifecycle`: every command of a project, its DVC stages included, from any folder.

    mllifecycle [--root DIR] COMMAND [ARGS...]
    mllifecycle COMMAND --help     # that command's own options

A project names this command after itself in its pyproject.toml (`[project.scripts]`),
so the help and the errors below use the name it was started as.

The commands run in the project root (paths.find_root: --root, else the nearest folder
upward holding dvc.yaml, else $MLLIFECYCLE_ROOT), so relative paths in
their arguments are read from the root, as in conf/ and the Makefile. The stages
themselves run through `dvc repro` / `dvc exp run`. Each command calls the `main` of
the module named in COMMANDS (whose `python -m` form still works), imported only when
it runs, so `serve` and `score` need only the core and serve extras.

Before it runs anything, the root's `src/` goes first on the import path: the team's
own code (derived features, candidates) is imported from the workspace the command
runs in, so a queued DVC experiment, which runs in a copy of the repo, runs the code
of that copy rather than that of the installed project.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import paths


def program() -> str:
    """The name this command was started as (the project's own script, or mllifecycle)."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name and not name.endswith(".py") and name != "-c" else "mllifecycle"


PROG = program()


@dataclass(frozen=True)
class Command:
    module: str  # under this package
    function: str  # called with no arguments; it reads its own from sys.argv
    help: str


COMMANDS = {
    "stage": Command("stages", "main", "run one DVC stage: STAGE (what dvc.yaml calls)"),
    "params": Command("compose", "main", "compose conf/ into params.yaml (--check: fail if stale)"),
    "keep": Command(
        "experiments", "main", "keep NAME: params.yaml's experiment into conf/experiment/"
    ),
    "experiment": Command("experiments", "main", "dvc exp run with Hydra overrides [-n NAME]"),
    "suite": Command(
        "validation.draft", "main", "draft the raw and serving GX suites (--accept replaces)"
    ),
    "docs": Command(
        "validation.docs", "main", "GX Data Docs of every gate into reports/data_docs/"
    ),
    "demo-db": Command("data.warehouse", "main", "write the demo tables into $DATABASE_URL"),
    "registry": Command(
        "registry.__main__", "main", "show | register | promote V STAGE | rollback | fetch V DIR"
    ),
    "serve": Command(
        "serving.__main__", "main", "the HTTP service [--stage S] [--port N] [--workers N]"
    ),
    "score": Command("serving.batch", "main", "batch scoring: SOURCE OUTPUT [--stage S]"),
    "loadtest": Command("serving.loadtest", "main", "bounded load test against the spec's p99"),
    "shadow-report": Command(
        "serving.shadow_report", "main", "champion vs challenger from the prediction log"
    ),
    "retrain-needed": Command(
        "monitoring.verdict", "retrain_status", "exit 0 if the last monitor run asks to retrain"
    ),
    "pr-report": Command(
        "reporting.pr_report", "main", "BASE OUTPUT: verdict, metrics and params against BASE"
    ),
}


def parser() -> argparse.ArgumentParser:
    listing = "\n".join(f"  {name:<15} {command.help}" for name, command in COMMANDS.items())
    cli = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__.splitlines()[0].replace("`", ""),
        epilog=f"commands:\n{listing}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cli.add_argument(
        "--root",
        type=Path,
        help=f"the project folder (default: found from here, or ${paths.ROOT_ENV})",
    )
    cli.add_argument("command", choices=COMMANDS, metavar="COMMAND")
    cli.add_argument("args", nargs=argparse.REMAINDER, help="the command's own arguments")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.root is not None and not args.root.is_dir():
        print(f"{PROG}: --root {args.root}: no such folder", file=sys.stderr)
        return 2
    os.chdir(paths.find_root(args.root))
    paths.put_project_code_first()
    return run(args.command, args.args)


def run(name: str, args: list[str]) -> int:
    """COMMANDS[name] with `args`, as if started as `PROG name args...`."""
    command = COMMANDS[name]
    if name in ("keep", "experiment"):
        args = experiment_args(name, args)
    module = importlib.import_module(f"{__package__}.{command.module}")
    function: Callable[[], int | None] = getattr(module, command.function)
    saved = sys.argv
    sys.argv = [f"{PROG} {name}", *args]
    try:
        return function() or 0  # some exit instead (SystemExit), as under `python -m`
    finally:
        sys.argv = saved


def experiment_args(name: str, args: list[str]) -> list[str]:
    """`keep NAME` and `experiment [-n NAME] OVERRIDE...` as experiments.main reads them."""
    if name == "keep":
        return ["keep", *args]
    options = argparse.ArgumentParser(prog=f"{PROG} experiment")
    options.add_argument("-n", "--name", default="", help="the experiment's name")
    options.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. model=lightgbm")
    parsed = options.parse_args(args)
    # experiments.main takes them from the environment, as the train workflow passes them.
    if parsed.overrides:
        os.environ["OVERRIDES"] = shlex.join(parsed.overrides)
    if parsed.name:
        os.environ["NAME"] = parsed.name
    return ["run"]


if __name__ == "__main__":
    sys.exit(main())

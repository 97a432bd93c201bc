"""`mllifecycle`: every command of a project, its DVC stages included, from any folder.

    mllifecycle [--root DIR] COMMAND [ARGS...]
    mllifecycle COMMAND --help     # that command's own options

A project names this command after itself in its pyproject.toml (`[project.scripts]`),
so the help and the errors use the name it was started as. One click tree: each
command parses its own options here and calls the library, whose modules are imported
only when their command runs, so `serve` and `score` need only the core and serve
extras.

The commands run in the project root (paths.find_root: --root, else the nearest folder
upward holding dvc.yaml, else $MLLIFECYCLE_ROOT), so relative paths in their arguments
are read from the root, as in conf/ and the Makefile. Before anything runs, the root's
`src/` goes first on the import path: the team's own code (derived features,
candidates) is imported from the workspace the command runs in, so a queued DVC
experiment, which runs in a copy of the repo, runs the code of that copy rather than
that of the installed project.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click

from . import paths
from .errors import PipelineError
from .stages import NAMES, OPTIONAL_NAMES


def program() -> str:
    """The name this command was started as (the project's own script, or mllifecycle)."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    return name if name and not name.endswith(".py") and name != "-c" else "mllifecycle"


PROG = program()


def main(argv: list[str] | None = None) -> int:
    """Run the command line on `argv` (default: sys.argv); the exit status."""
    try:
        code = cli.main(args=argv, prog_name=PROG, standalone_mode=False)
    except click.exceptions.Exit as done:
        return done.exit_code
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except click.Abort:
        return 1
    except SystemExit as done:  # a command's own exit (a failed gate, a refused model)
        if isinstance(done.code, str):  # sys.exit("message"): printed, as Python would
            print(done.code, file=sys.stderr)
            return 1
        return done.code if isinstance(done.code, int) else 0
    return code if isinstance(code, int) else 0


def fail(where: str, err: PipelineError) -> None:
    """One line naming what failed, then exit status 1."""
    print(f"{where}: {err}", file=sys.stderr)
    raise SystemExit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    type=click.Path(path_type=Path),
    help=f"the project folder (default: found from here, or ${paths.ROOT_ENV})",
)
def cli(root: Path | None) -> None:
    """Every command of this project, its DVC stages included, from any folder."""
    if root is not None and not root.is_dir():
        print(f"{PROG}: --root {root}: no such folder", file=sys.stderr)
        raise SystemExit(2)
    os.chdir(paths.find_root(root))
    paths.put_project_code_first()


# --- the lifecycle and its configuration ---------------------------------------------


@cli.command()
@click.argument("name", metavar="STAGE", type=click.Choice([*NAMES, *OPTIONAL_NAMES]))
def stage(name: str) -> None:
    """Run one DVC stage (what dvc.yaml calls): define, ingest, ... monitor."""
    from . import stages

    stages.run(name)


@cli.command()
@click.option("--check", is_flag=True, help="exit 1 if params.yaml is stale")
@click.argument("overrides", nargs=-1)
def params(check: bool, overrides: tuple[str, ...]) -> int:
    """Compose conf/ into params.yaml, with Hydra overrides (model=linear)."""
    from . import compose

    return compose.write_params(list(overrides), check=check)


@cli.command()
@click.argument("name", default="")
def keep(name: str) -> int:
    """Write params.yaml's experiment into conf/experiment/NAME.yaml and select it."""
    from . import experiments

    return experiments.keep_experiment(name)


@cli.command()
@click.option("-n", "--name", default=None, help="the experiment's name (default: $NAME)")
@click.argument("overrides", nargs=-1)
def experiment(name: str | None, overrides: tuple[str, ...]) -> int:
    """`dvc exp run` with Hydra overrides (default: the words of $OVERRIDES)."""
    from . import experiments

    # Given words are joined as a shell would quote them; $OVERRIDES is split (and refused
    # in one line when it cannot be) as the train workflow passes it.
    words = shlex.join(overrides) if overrides else os.environ.get("OVERRIDES", "")
    return experiments.run_experiment(words, os.environ.get("NAME", "") if name is None else name)


@cli.command()
@click.option("--dataset", default=str(paths.RAW_DATASET), show_default=True)
@click.option("--suites", type=click.Path(path_type=Path), default=paths.SUITES_DIR)
@click.option("--accept", is_flag=True, help="replace the reviewed suites with the drafts")
def suite(dataset: str, suites: Path, accept: bool) -> None:
    """Draft the raw and serving GX suites from the data and conf/data, for review."""
    from . import compose
    from .validation import draft

    # The drafts follow params.yaml's data: a stale one would draft (and --accept write)
    # suites for data conf/ no longer selects.
    if compose.write_params([], check=True):
        raise SystemExit(1)
    draft.draft_suites(dataset, suites, accept)


@cli.command()
def docs() -> None:
    """GX Data Docs of every gate into reports/data_docs/."""
    from .validation import docs as data_docs

    data_docs.main()


@cli.command("demo-db")
def demo_db() -> None:
    """Write the demo tables into the database $DATABASE_URL names."""
    from .data import warehouse

    warehouse.main()


# --- the make targets that are DVC or pytest, for a project without make ----------------


def tools_first() -> dict[str, str]:
    """The environment with this interpreter's folder first on PATH: the dvc, pytest and
    project command of the project's own environment, whatever PATH held."""
    here = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join(filter(None, [here, os.environ.get("PATH")]))}


def run_tool(*words: str) -> int:
    """Run dvc or pytest from the project's environment; its exit status."""
    env = tools_first()
    found = shutil.which(words[0], path=env["PATH"])
    if found is None:
        print(f"{PROG}: {words[0]} is not installed in this environment", file=sys.stderr)
        return 127
    return subprocess.run([found, *words[1:]], env=env, check=False).returncode


def pull_option() -> list[str]:
    """--pull when a DVC remote is configured: reuse what it already holds."""
    dvc = shutil.which("dvc", path=tools_first()["PATH"])
    listed = subprocess.run([dvc or "dvc", "remote", "list"], capture_output=True, text=True)
    return ["--pull"] if listed.returncode == 0 and listed.stdout.strip() else []


@cli.command()
def repro() -> int:
    """Check params.yaml against conf/ and models/champion.json against the registry, then
    run every stage that is out of date."""
    from . import compose
    from .registry import champion

    if compose.write_params([], check=True):
        return 1
    try:  # `dvc exp apply` can restore an older champion.json that DVC sees as up to date
        champion.verified()
    except PipelineError as err:
        fail("repro", err)
    return run_tool("dvc", "repro", *pull_option())


@cli.command()
def monitor() -> int:
    """Drift and performance on the newest production batch (`dvc repro monitor`)."""
    return run_tool("dvc", "repro", *pull_option(), "monitor")


@cli.command()
def retrain() -> int:
    """Re-read the source data and rerun every stage from ingest; a failed production
    check blocks no training stage (--keep-going)."""
    return run_tool("dvc", "repro", "--keep-going", "--force", "--downstream", "ingest")


@cli.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def test(pytest_args: tuple[str, ...]) -> int:
    """The project's tests: pytest, with any of its own arguments (-k smoke, -x)."""
    return run_tool("pytest", *pytest_args)


@cli.command("retrain-needed")
def retrain_needed() -> int:
    """Exit 0 if the last monitor run asks for a retrain (1: it does not)."""
    from .monitoring import verdict

    return verdict.retrain_status()


@cli.command("pr-report")
@click.argument("base")
@click.argument("output", type=click.Path(path_type=Path))
def pr_report(base: str, output: Path) -> None:
    """Verdict, metrics and params against the git revision BASE, as Markdown in OUTPUT."""
    from .reporting import pr_report as report

    try:
        text = report.render(base)
    except PipelineError as err:
        fail("pr_report", err)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text)
    print(text)


# --- the registry ----------------------------------------------------------------


@cli.group()
def registry() -> None:
    """Versions and stages of the packaged model (git tags with GTO, or MLflow: conf/registry)."""


@registry.command("show")
def registry_show() -> None:
    """What version is in each stage."""
    from . import registry as models

    try:
        for where, placed in models.stages().items():
            print(f"{where:<10} {placed}")
    except PipelineError as err:
        fail("registry", err)


@registry.command("register")
@click.option("--bump", type=click.Choice(["patch", "minor", "major"]), default="patch")
def registry_register(bump: str) -> None:
    """Register HEAD's packaged model as a new version (--bump: GTO's semantic versions)."""
    from . import registry as models

    try:
        version = models.register(bump=bump)
    except PipelineError as err:
        fail("registry", err)
    kept = models.registry_config(Path(".")).backend
    where = "git push --tags to share it" if kept == "gto" else f"in MLflow at {mlflow_uri()}"
    print(f"registered {version.tag} at {version.commit[:8]} ({where})")


@registry.command("promote")
@click.argument("version")
@click.argument("to_stage", metavar="STAGE")
def registry_promote(version: str, to_stage: str) -> None:
    """Assign VERSION (v0.0.3) to STAGE (staging, prod: a failed verdict is refused)."""
    from . import registry as models

    try:
        promoted = models.promote(version, to_stage)
    except PipelineError as err:
        fail("registry", err)
    print(f"{promoted.tag} is now in {to_stage}")
    remind_to_commit(to_stage)


@registry.command("rollback")
@click.argument("from_stage", metavar="STAGE", default="prod")
def registry_rollback(from_stage: str) -> None:
    """Withdraw the version in effect in STAGE; the one before it serves again."""
    from . import registry as models

    try:
        withdrawn, restored = models.rollback(from_stage)
    except PipelineError as err:
        fail("registry", err)
    print(f"{from_stage}: withdrew {withdrawn.version}, {restored.version} serves again")
    remind_to_commit(from_stage)


@registry.command("fetch")
@click.argument("version")
@click.argument("destination", type=click.Path(path_type=Path))
def registry_fetch(version: str, destination: Path) -> None:
    """Copy VERSION's package into DESTINATION."""
    from . import registry as models

    try:
        folder = models.fetch(models.resolve(version), destination)
    except PipelineError as err:
        fail("registry", err)
    print(f"{version} is in {folder}")


def mlflow_uri() -> str:
    from .registry.mlflow import server_uri

    return server_uri()


def remind_to_commit(changed: str) -> None:
    from .registry import champion

    if changed == champion.STAGE:
        named = champion.read()
        print(
            f"{paths.CHAMPION} now names {named.version if named else 'no version'}: commit it "
            f"(git add {paths.CHAMPION} && git commit) so evaluate and monitor compare with it"
        )


# --- serving ---------------------------------------------------------------------


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--stage", "serve_stage", help="registry stage to serve ($SERVE_STAGE, else prod)")
@click.option("--challenger-stage", help="a stage to shadow it (its answers are logged)")
@click.option(
    "--model-dir",
    type=click.Path(path_type=Path),
    help="a package folder instead ($SERVE_MODEL_DIR): checked as the registry checks",
)
@click.option(
    "--allow-unregistered",
    is_flag=True,
    help="serve a --model-dir that was never registered (models/package), and say so",
)
@click.option("--workers", type=int, help="default: $SERVE_WORKERS, else one per core")
def serve(
    host: str,
    port: int,
    serve_stage: str | None,
    challenger_stage: str | None,
    model_dir: Path | None,
    allow_unregistered: bool,
    workers: int | None,
) -> None:
    """The HTTP service of the model in a stage (or a package folder)."""
    from .serving import __main__ as service

    folder = {
        "model_dir": str(model_dir) if model_dir else None,
        "allow_unregistered": "1" if allow_unregistered else None,
    }
    service.serve(host, port, serve_stage, challenger_stage, workers, **folder)


@cli.command()
@click.argument("source")
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--stage", "from_stage", default="prod", show_default=True)
@click.option("--model-dir", type=click.Path(path_type=Path), help="a package folder instead")
@click.option(
    "--allow-unregistered",
    is_flag=True,
    help="score with a --model-dir that was never registered (models/package)",
)
@click.option("--chunk-rows", type=int, default=200_000, show_default=True)
@click.option(
    "--engine",
    type=click.Choice(["pandas", "dask"]),
    default="pandas",
    help="dask: each part of SOURCE scored on a cluster into OUTPUT, a directory of parts",
)
def score(
    source: str,
    output: Path,
    from_stage: str,
    model_dir: Path | None,
    allow_unregistered: bool,
    chunk_rows: int,
    engine: str,
) -> None:
    """Batch scoring: SOURCE (.csv/.parquet path or URL, sql:TABLE) into OUTPUT."""
    from .serving import batch

    batch.score_command(
        source, output, from_stage, model_dir, chunk_rows, engine, allow_unregistered
    )


@cli.command()
@click.option("--model-dir", type=click.Path(path_type=Path), default=paths.PACKAGE_DIR)
@click.option("--users", type=int, default=2, show_default=True)
@click.option("--rate-per-user", type=float, default=5.0, help="requests per second")
@click.option("--seconds", type=int, default=10, show_default=True)
@click.option("--p99-limit-ms", type=float, help="default: the problem spec's")
def loadtest(
    model_dir: Path, users: int, rate_per_user: float, seconds: int, p99_limit_ms: float | None
) -> None:
    """A bounded load test of the packaged model, judged against the spec's p99."""
    from .serving import loadtest as load

    load.judge(model_dir, users, rate_per_user, seconds, p99_limit_ms)


@cli.command("shadow-report")
@click.option("--log", type=click.Path(path_type=Path), default=Path("logs/predictions.jsonl"))
@click.option("--labels", help="CSV or Parquet: the id column and the target")
@click.option("--output", type=click.Path(path_type=Path), default=None)
def shadow_report(log: Path, labels: str | None, output: Path | None) -> None:
    """Champion against challenger from the prediction log (with labels: their value)."""
    from .serving import shadow_report as shadow

    shadow.report(log, labels, output or shadow.REPORT)


if __name__ == "__main__":
    sys.exit(main())

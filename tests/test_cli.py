"""The README's lifecycle with no `make` on PATH, from folders other than the project root.

Every project command below is taken from the generated README (so the test fails when
the README drifts from the CLI): compose params, `dvc repro`, register, promote, batch
score, serve and answer the README's /predict request, the retrain verdict, rollback.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from .conftest import GeneratedEnv, bake, run

SLUG = "churn-cli"


def without_make(generated_env: GeneratedEnv, folder: Path) -> dict[str, str]:
    """The environment with PATH = the generated env's bin + links to every tool but make."""
    tools = folder / "tools"
    tools.mkdir()
    for directory in os.environ["PATH"].split(os.pathsep):
        if not Path(directory).is_dir() or Path(directory) == generated_env.bin:
            continue
        for tool in Path(directory).iterdir():
            if tool.name not in {"make", "gmake"} and not (tools / tool.name).exists():
                (tools / tool.name).symlink_to(tool)
    env = {**generated_env.env(), "PATH": f"{generated_env.bin}{os.pathsep}{tools}"}
    assert subprocess.run(["which", "make"], env=env, capture_output=True).returncode != 0
    return env


def readme_commands(readme: str) -> list[str]:
    """The project and dvc commands in the README: its bash blocks (comments dropped), then
    its inline code."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", readme, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            if not line.startswith((SLUG, "dvc ")):
                continue  # the curl example spans lines inside quotes
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    inline = [code for code in re.findall(r"`([^`\n]+)`", readme) if code.startswith(SLUG)]
    return [*commands, *inline]


def readme_command(commands: list[str], start: str) -> list[str]:
    matches = [c for c in commands if c.startswith(start)]
    assert matches, f"the README shows no `{start} ...` command"
    return shlex.split(matches[0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, generated_env: GeneratedEnv) -> Path:
    rendered = bake(tmp_path_factory.mktemp("cli"), project_name="churn cli",
                    module_name="churn_cli")
    generated_env.install(rendered)
    return rendered


def test_the_readme_lifecycle_runs_without_make(project: Path, generated_env: GeneratedEnv,
                                                tmp_path: Path) -> None:
    readme = (project / "README.md").read_text()
    commands = readme_commands(readme)
    env = without_make(generated_env, tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    def cli(words: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert words[0] == SLUG
        return run([str(generated_env.bin / SLUG), *words[1:]], cwd=cwd, env=env, check=check)

    def from_outside(words: list[str]) -> subprocess.CompletedProcess[str]:
        return cli([SLUG, "--root", str(project), *words[1:]], cwd=outside)

    def commit(message: str) -> None:
        run(["git", "add", "-A"], cwd=project, env=env)
        run(["git", "commit", "-q", "-m", message], cwd=project, env=env)

    # Compose from a subfolder (the root is found upward), then every stage.
    (project / "params.yaml").unlink()
    cli(readme_command(commands, f"{SLUG} params"), cwd=project / "conf")
    assert (project / "params.yaml").exists()
    assert readme_command(commands, "dvc repro") == ["dvc", "repro"]
    run(["dvc", "repro"], cwd=project, env=env)
    commit("Pipeline outputs")

    register = readme_command(commands, f"{SLUG} registry register")
    first = re.search(r"@(v\d+\.\d+\.\d+)", cli(register, cwd=project / "src").stdout)
    assert first, "register printed no version"
    promote = readme_command(commands, f"{SLUG} registry promote")
    promoted = from_outside([*promote[:-2], first.group(1), "prod"])
    assert f"{first.group(1)} is now in prod" in promoted.stdout
    assert json.loads((project / "models/champion.json").read_text())["version"] == first.group(1)
    shown = from_outside(readme_command(commands, f"{SLUG} registry show")).stdout
    assert re.search(rf"prod\s+.*{first.group(1)}", shown), shown

    # Batch scoring: the README's command, on the production batch, from outside.
    score = readme_command(commands, f"{SLUG} score")
    scored = from_outside([*score[:-2], "data/raw/production.parquet", "scored.parquet"])
    assert f"with {first.group(1)} into scored.parquet" in scored.stdout
    assert (project / "scored.parquet").stat().st_size > 0

    # The service, started as the README says, answering the README's request.
    serve = readme_command(commands, f"{SLUG} serve")
    port = free_port()
    words = [str(generated_env.bin / SLUG), *serve[1:-1], str(port)]
    assert serve[-2] == "--port"
    body = re.search(r"-d '(\{.*?\})'", readme, re.DOTALL)
    assert body, "the README shows no /predict request"
    server = subprocess.Popen(words, cwd=project / "src", env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        answer = predict(port, body.group(1), server)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert answer["model_version"] == first.group(1) and len(answer["predictions"]) == 1

    # Outside the project the root comes from the environment; without it, no verdict.
    retrain = [str(generated_env.bin / SLUG), *readme_command(commands, f"{SLUG} retrain-needed")[1:]]
    lost = run(retrain, cwd=outside, env=env, check=False)
    assert lost.returncode == 2 and "no monitor verdict" in lost.stderr
    found = run(retrain, cwd=outside, env={**env, "MLLIFECYCLE_ROOT": str(project)}, check=False)
    assert found.returncode in (0, 1) and "retrain" in found.stdout, found.stderr

    # A second version in prod, then the README's rollback brings the first one back.
    # evaluate and monitor read the champion: `repro` (the params check, then dvc repro)
    assert "Running stage 'evaluate'" in cli([SLUG, "repro"], cwd=project / "conf").stdout
    commit("v1 in prod, evaluated against it")
    second = re.search(r"@(v\d+\.\d+\.\d+)", cli(register, cwd=project).stdout)
    assert second and second.group(1) != first.group(1)
    from_outside([*promote[:-2], second.group(1), "prod"])
    rolled = from_outside(readme_command(commands, f"{SLUG} registry rollback")).stdout
    assert f"withdrew {second.group(1)}, {first.group(1)} serves again" in rolled
    assert json.loads((project / "models/champion.json").read_text())["version"] == first.group(1)


def predict(port: int, body: str, server: subprocess.Popen[str]) -> dict[str, object]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=1):
                break
        except OSError:
            time.sleep(0.2)
    assert server.poll() is None, server.communicate()[0]
    request = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=body.encode(),
                                     headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.loads(answer.read()))

"""`{{ cookiecutter.project_slug }} serve --port 8000` (or `python -m {{ cookiecutter.module_name }}.serving`): load the model, then serve it."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from ..errors import PipelineError
from .app import create_app
from .settings import ServeSettings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", help="registry stage to serve (default: $SERVE_STAGE or prod)")
    parser.add_argument("--challenger-stage", help="a stage to shadow it (its answers are logged)")
    args = parser.parse_args(argv)
    chosen = {"stage": args.stage, "challenger_stage": args.challenger_stage}
    try:
        # Settings from SERVE_* environment variables; options given here win.
        app = create_app(ServeSettings(**{k: v for k, v in chosen.items() if v is not None}))
    except PipelineError as err:
        print(f"serving: {err}", file=sys.stderr)
        sys.exit(1)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

"""`python -m {{ cookiecutter.module_name }}.serving --port 8000`: load the model, then serve it."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from ..errors import PipelineError
from .app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    try:
        app = create_app()  # settings from SERVE_* environment variables
    except PipelineError as err:
        print(f"serving: {err}", file=sys.stderr)
        sys.exit(1)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()

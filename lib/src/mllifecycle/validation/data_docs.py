"""GX Data Docs for one checkpoint run, made to open styled with no network.

GX writes static HTML whose stylesheets and scripts come from CDNs (Bootstrap,
Font Awesome, jQuery, Vega). Offline those pages open unstyled, so after GX
renders a site every remote <link>/<script> is dropped and the page points at
Bootstrap 4.3.1's CSS (MIT, the version GX's markup is written for) shipped in
gx/assets/ and copied beside the pages. The pages' own CSS is local already.
What needs the dropped scripts (sortable tables, Vega charts) is left out.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from .. import paths

if TYPE_CHECKING:
    from great_expectations.checkpoint.checkpoint import CheckpointResult
    from great_expectations.data_context import AbstractDataContext
    from great_expectations.data_context.store.store import DataDocsSiteConfigTypedDict

ASSETS_DIR = paths.SUITES_DIR.parent / "assets"
STYLESHEET = "bootstrap.min.css"
ASSET_FILES = (STYLESHEET, "bootstrap-LICENSE.txt")
REMOTE_TAG = re.compile(
    r"<link\b[^>]*\bhref=[\"']https?://[^>]*>|<script\b[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>",
    re.IGNORECASE,
)


def render(context: AbstractDataContext, outcome: CheckpointResult, site_dir: Path) -> Path:
    """Render the checkpoint's Data Docs into `site_dir`; return the site's index page."""
    import great_expectations as gx

    # A fresh site: an earlier run's pages describe other data (and would gain a second
    # local stylesheet link each time they are made offline).
    shutil.rmtree(site_dir, ignore_errors=True)
    context.add_data_docs_site(site_name="local", site_config=_site(site_dir))
    gx.checkpoint.UpdateDataDocsAction(name="data-docs", site_names=["local"]).run(outcome)
    make_offline(site_dir)
    return site_dir / "index.html"


def make_offline(site_dir: Path) -> None:
    """Ship the stylesheet into the site and point every page at it, not at a CDN."""
    styles = site_dir / "static" / "styles"
    styles.mkdir(parents=True, exist_ok=True)
    for name in ASSET_FILES:
        shutil.copyfile(ASSETS_DIR / name, styles / name)
    for page in site_dir.rglob("*.html"):
        href = Path(os.path.relpath(styles / STYLESHEET, page.parent)).as_posix()
        text = REMOTE_TAG.sub("", page.read_text(encoding="utf-8"))
        local = f'<link rel="stylesheet" href="{href}"/>'
        page.write_text(text.replace("<head>", f"<head>\n{local}", 1), encoding="utf-8")


def _site(site_dir: Path) -> DataDocsSiteConfigTypedDict:
    return {
        "class_name": "SiteBuilder",
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(site_dir.resolve()),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }

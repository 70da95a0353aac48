"""MkDocs hook: reference pages generated from the code at build time.

A reference page holds a marker line such as `<!-- generated: settings -->`; this hook
replaces it with what the code says now (the settings model, the problem registry, the
OpenAPI document), so the site cannot drift from the code. The CLI reference comes from
the click commands through mkdocs-click. `openapi.json` is written into the site too.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

MARKER = re.compile(r"^<!-- generated: ([a-z-]+) -->$", re.MULTILINE)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _default(field: Any) -> str:
    from pydantic_core import PydanticUndefined

    value = field.default
    if value is PydanticUndefined or value is None or value == "":
        return "unset"
    if hasattr(value, "as_posix"):
        value = value.as_posix()
    if isinstance(value, bool):
        value = str(value).lower()
    return f"`{value}`"


def _limits(field: Any) -> str:
    parts = []
    for item in field.metadata:
        for name, sign in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            bound = getattr(item, name, None)
            if bound is not None:
                parts.append(f"{sign} {bound}")
    return ", ".join(parts)


def settings_table() -> str:
    from gateway.core.settings import Settings

    prefix = Settings.model_config.get("env_prefix", "")
    rows = ["| variable | default | allowed | meaning |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        variable = f"`{prefix}{name.upper()}`"
        rows.append(
            f"| {variable} | {_default(field)} | {_limits(field)} "
            f"| {_cell(field.description or '')} |"
        )
    return "\n".join(rows)


def identity_tables() -> str:
    """One table per section of `policies/identity.toml`, from its pydantic model."""
    from gateway.staff import IDENTITY_SECTIONS

    parts = []
    for model in IDENTITY_SECTIONS:
        title, _, _rest = (model.__doc__ or "").partition(":")
        parts.append(f"### {title.strip()}\n\n{_cell(_rest)}\n")
        rows = ["| key | default | allowed | meaning |", "|---|---|---|---|"]
        for name, field in model.model_fields.items():
            default = "required" if field.is_required() else _default(field)
            if field.default_factory is not None:
                default = f"`{field.default_factory()}`"  # type: ignore[call-arg]
            rows.append(
                f"| `{name}` | {default} | {_limits(field)} | {_cell(field.description or '')} |"
            )
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def problems_table() -> str:
    from gateway.core.problems import PROBLEM_TYPES, TYPE_PREFIX

    rows = ["| `type` | status | title | when |", "|---|---|---|---|"]
    for slug, kind in sorted(PROBLEM_TYPES.items()):
        rows.append(
            f"| `{TYPE_PREFIX}{slug}` | {kind.status} | {kind.title} | {_cell(kind.description)} |"
        )
    return "\n".join(rows)


@cache
def openapi() -> dict[str, Any]:
    """The OpenAPI document of an app built on a throwaway embedded store."""
    from gateway.app import create_app
    from gateway.core.settings import Settings

    # The throwaway store's generated keys need no warning in the build's output.
    logging.getLogger("gateway").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(var_dir=Path(tmp), database_url=f"sqlite:///{tmp}/docs.db")
        app = create_app(settings)
        document: dict[str, Any] = app.openapi_schema.to_schema()
    return document


def operations_table() -> str:
    rows = ["| method | path | summary | auth |", "|---|---|---|---|"]
    for path, item in sorted(openapi()["paths"].items()):
        for method, op in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            public = op.get("security") == []
            rows.append(
                f"| `{method.upper()}` | `{path}` | {_cell(op.get('summary', ''))} "
                f"| {'public' if public else 'bearer'} |"
            )
    return "\n".join(rows)


GENERATORS = {
    "settings": settings_table,
    "problems": problems_table,
    "identity": identity_tables,
    "operations": operations_table,
}


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in GENERATORS:
            raise ValueError(f"{page.file.src_uri}: no generator named {name!r}")
        return GENERATORS[name]()

    return MARKER.sub(replace, markdown)


EXPLORER = "reference/explorer"
EXPLORER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Order Privacy Gateway: HTTP API</title>
<link rel="stylesheet" href="swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script>
<script src="swagger-ui-standalone-preset.js"></script>
<script src="init.js"></script>
</body>
</html>
"""
# The document is inlined, so the page works from a file:// copy of the site too.
EXPLORER_INIT = """window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    spec: SPEC,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "BaseLayout",
    supportedSubmitMethods: [],
  });
});
"""


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """The OpenAPI document as a file of the site, and Swagger UI to read it offline.

    Swagger UI's files come from the same package the gateway serves them from
    (swagger-ui-py); "try it out" is off, since the site talks to no gateway.
    """
    from importlib.resources import files as package_files

    document = json.dumps(openapi(), indent=2, ensure_ascii=False)
    files.append(File.generated(config, "reference/openapi.json", content=document))
    files.append(File.generated(config, f"{EXPLORER}/index.html", content=EXPLORER_PAGE))
    init = EXPLORER_INIT.replace("SPEC", json.dumps(openapi(), ensure_ascii=False))
    files.append(File.generated(config, f"{EXPLORER}/init.js", content=init))
    vendor = Path(str(package_files("swagger_ui") / "static"))
    for name in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        files.append(File.generated(config, f"{EXPLORER}/{name}", abs_src_path=str(vendor / name)))
    return files

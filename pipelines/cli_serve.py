"""``mdm serve``: the web workbench and the match API."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from pipelines.errors import MdmError

err = Console(stderr=True)


def serve(
    config: Path = typer.Option(..., "--config", "-c", help="mdm.yaml of the warehouse to serve"),  # noqa: B008
    host: str = typer.Option("127.0.0.1", help="Address to listen on (keep 127.0.0.1 behind a TLS proxy)"),
    port: int = typer.Option(8765, min=1, max=65535, help="TCP port"),
) -> None:
    """Serve the data stewards' workbench (review queue, pairs, clusters, decisions, golden records, audit
    log) and POST /api/match (OpenAPI docs at /docs). Users sign in with the accounts of `mdm users`;
    programs call the API with `Authorization: Bearer $MDM_API_TOKEN` when MDM_API_TOKEN is set.

    Example: mdm serve --config demo/mdm.yaml --port 8765
    """
    try:
        import uvicorn

        from pipelines.config import load_config
        from pipelines.web import create_app

        app = create_app(load_config(config))
    except (MdmError, ValueError, OSError) as e:
        err.print(f"[red]error:[/red] {e}")
        raise typer.Exit(1) from None
    err.print(f"workbench on http://{host}:{port}/  (API docs: /docs)")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False)

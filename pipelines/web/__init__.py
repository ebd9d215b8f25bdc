"""The data stewards' web workbench (``mdm serve``): server-rendered pages over the published warehouse."""

from pipelines.web.app import create_app

__all__ = ["create_app"]

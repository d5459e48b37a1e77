"""The command line: click commands in app.py, output in render.py. Never imports boto3."""

from assetpub.cli.app import main

__all__ = ["main"]

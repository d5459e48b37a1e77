"""assetpub: publish front-end builds to S3-compatible CDN origins without breaking open pages.

`from assetpub import publish, rollback, gc, verify, load_config` is the Python API
(assetpub/api.py, docs/api.md).
"""

__version__ = "0.1.0"

__all__ = ["__version__", "gc", "load_config", "publish", "rollback", "verify"]

# Imported on first use: `import assetpub` (and so the CLI's start-up, which reads
# __version__) stays free of the commands and their dependencies.
_API = frozenset({"gc", "load_config", "publish", "rollback", "verify"})

# Not typing's: importing typing would cost ten times the rest of this module. Type checkers
# take any TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from assetpub.api import gc, load_config, publish, rollback, verify


def __getattr__(name: str) -> object:
    if name in _API:
        from assetpub import api

        value = getattr(api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *(n for n in globals() if n.startswith("__"))})

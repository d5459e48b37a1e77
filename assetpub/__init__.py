"""assetpub: publish front-end builds to S3-compatible CDN origins without breaking open pages."""

__version__ = "0.1.0"

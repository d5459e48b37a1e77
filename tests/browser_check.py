"""A check command for tests/test_health.py (`--check-cmd "python tests/browser_check.py"`):
load $ASSETPUB_CHECK_URL in headless Chromium and fail when the page's script reported an
error (`data-error` on <html>, set by the page's error listener) or never ran (no `data-ok`).
The URL check cannot see a JavaScript exception; a browser can."""

from __future__ import annotations

import html
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

import pytest  # noqa: E402 (after the path: e2e_support is a tests/ module)
from e2e_support import dump_dom, find_chromium  # noqa: E402


def main() -> int:
    url = os.environ.get("ASSETPUB_CHECK_URL")
    chromium = find_chromium()
    if not url or not chromium:
        print("needs ASSETPUB_CHECK_URL (--check-url) and Chromium")
        return 2
    with tempfile.TemporaryDirectory(prefix="assetpub-check-chromium-") as profile:
        try:
            dom = dump_dom(chromium, url, Path(profile), budget_ms=5_000)
        except pytest.fail.Exception as exc:  # dump_dom's way of saying Chromium failed
            print(f"Chromium failed: {str(exc).splitlines()[0]}")
            return 2
    error = re.search(r'data-error="([^"]*)"', dom)
    if error:
        print(f"the page's script threw: {html.unescape(error.group(1))}")
        return 1
    if 'data-ok="yes"' not in dom:
        print("the page's script never ran")
        return 1
    print("the page ran without errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())

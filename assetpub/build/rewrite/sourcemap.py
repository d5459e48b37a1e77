"""sourceMappingURL in JavaScript."""

from __future__ import annotations

import re

from assetpub.build.rewrite.text import Decoded, Reference

_NEWLINES = "\n\r\u2028\u2029"
_LINE_START = r"(?<![^\n\r\u2028\u2029])[ \t]*"  # at the start of the text or after a newline
_LINE_END = r"[ \t]*(?![^\n\r\u2028\u2029])"  # at the end of the text or before a newline
_SOURCEMAP_COMMENT = re.compile(
    _LINE_START
    + r"(?://[#@][ \t]*sourceMappingURL=(?P<line>\S*)"
    + r"|/\*[#@][ \t]*sourceMappingURL=(?P<block>\S*?)[ \t]*\*/)"
    + _LINE_END
)


def find_sourcemap_reference(text: str) -> Reference | None:
    """The last `//# sourceMappingURL=` (or legacy `//@`) or `/*# ... */` comment line.

    Comments are recognised by a line-based pattern, not a JavaScript parser: a line inside
    a template literal that looks exactly like the comment would count. The last one wins,
    as in browsers; None if it is not local (an inline `data:` map).
    """
    # Bundles run to megabytes: look only at the lines that contain the marker, from the end.
    end = len(text)
    while (found := text.rfind("sourceMappingURL=", 0, end)) != -1:
        line_start = max(text.rfind(c, 0, found) for c in _NEWLINES) + 1
        line_end = min(
            (i for c in _NEWLINES if (i := text.find(c, found)) != -1), default=len(text)
        )
        match = _SOURCEMAP_COMMENT.match(text, line_start, line_end)
        if match:
            group = "line" if match.group("line") is not None else "block"
            decoded = Decoded.verbatim(text, match.start(group), match.end(group))
            return decoded.reference(0, len(decoded.text), "sourceMappingURL")
        end = line_start
    return None

"""Reference, and decoded text that remembers where each character was written.

A URL is decoded for its context (character references, CSS escapes) before it is read;
`Decoded` maps each decoded character back to the source it came from, so every
Reference points into the text as written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assetpub.build.rewrite.urls import is_local_url, split_url


@dataclass(frozen=True, slots=True)
class Reference:
    """One URL found in a file, located in the text as written."""

    start: int  # offset in `text` where the URL as written begins
    path_end: int  # offset where its path part ends (before '?' or '#'); == end if none
    end: int  # offset where the URL as written ends (exclusive)
    url: str  # decoded for its context (character references, CSS escapes), query included
    kind: str  # where it was found, for messages: "<img src>", "srcset", "url()", ...


@dataclass(frozen=True)
class Decoded:
    """Text decoded from a stretch of source; character i came from source[starts[i]:ends[i]]."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    @classmethod
    def verbatim(cls, source: str, start: int, end: int) -> Decoded:
        """source[start:end] taken as it is (no escapes to resolve)."""
        return cls(source[start:end], range(start, end), range(start + 1, end + 1))

    @classmethod
    def from_pieces(cls, pieces: Iterable[tuple[str, int, int]]) -> Decoded:
        """Join (decoded characters, source start, source end) pieces."""
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for decoded, start, end in pieces:
            chars.append(decoded)
            starts.extend([start] * len(decoded))
            ends.extend([end] * len(decoded))
        return cls("".join(chars), starts, ends)

    def reference(self, first: int, stop: int, kind: str) -> Reference | None:
        """The Reference for decoded characters [first, stop), or None if it is not local."""
        url = self.text[first:stop]
        if not is_local_url(url):  # also when empty
            return None
        end = self.ends[stop - 1]
        split = first + len(split_url(url)[0])
        path_end = self.starts[split] if split < stop else end
        return Reference(self.starts[first], path_end, end, url, kind)

    def remap(self, ref: Reference, kind_prefix: str = "") -> Reference:
        """Move `ref`, found in self.text, to the source this text was decoded from."""
        end = self.ends[ref.end - 1]
        path_end = self.starts[ref.path_end] if ref.path_end < ref.end else end
        return Reference(self.starts[ref.start], path_end, end, ref.url, kind_prefix + ref.kind)

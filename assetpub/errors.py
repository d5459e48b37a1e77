"""The one exception family the CLI turns into a one-line message.

Anything that is not an AssetpubError is a bug and keeps its traceback.
"""

from __future__ import annotations


def and_more(count: int) -> str:
    """' (and N more)' after the first of `count` problems named in a one-line message."""
    return f" (and {count - 1} more)" if count > 1 else ""


class AssetpubError(Exception):
    """A problem the user can fix; the message says what and what to do next."""

    exit_code = 1

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(AssetpubError):
    """Bad flags, TOML or config keys."""

    exit_code = 2


class BuildError(AssetpubError):
    """The build folder cannot be published as it is (missing, no HTML, bad reference...)."""


class OriginError(AssetpubError):
    """An origin refused or failed a request (missing bucket, credentials, network...)."""


class AlreadyExistsError(OriginError):
    """A create-only write found the key already there."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} already exists")
        self.key = key


class PreconditionFailedError(OriginError):
    """A compare-and-swap write lost: the object changed since it was read."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} changed since it was read")
        self.key = key


class HistoryError(OriginError):
    """The origin's history is missing something a command needs (release, state)."""


class NoHistoryError(HistoryError):
    """The origin has no assetpub history at all (no state object): a command that reads it
    (gc, rollback, status) refuses rather than report success on a mistyped origin URL."""

    def __init__(self, url: str, key: str, doing: str) -> None:
        super().__init__(
            f"{url}: no assetpub history here ({key} is missing), so {doing}; is the origin "
            "URL right?"
        )


class MissingRecordError(HistoryError):
    """A release's record is not on the origin (never written, or collected by a GC)."""

    def __init__(self, url: str, release_id: str) -> None:
        super().__init__(f"{url}: release {release_id} has no record on this origin")
        self.release_id = release_id


class ConflictError(AssetpubError):
    """An immutable name on an origin already holds different bytes."""

    # Its own code: a bundler whose output is not deterministic is fixed in the build, not
    # by running the same deploy again.
    exit_code = 4


class IncompleteSwitchError(OriginError):
    """An origin's state says the release is live, but not all its files switched: the pages
    still load (assets first, index.html last), and the same command again converges."""

    exit_code = 5  # the one failure a script answers by running the same command again


class PartialSwitchError(AssetpubError):
    """Some origins switched and some did not: the message says which is live on what."""

    exit_code = 5  # as IncompleteSwitchError: the same command again converges


class RollbackError(HistoryError):
    """The release to roll back to cannot be made live (unknown, collected, incomplete)."""


class TooManyDeletesError(AssetpubError):
    """GC would delete more than --max-deletes: it deleted nothing (use --force)."""


class NewerFormatError(HistoryError):
    """An object in the origin's history was written by a newer assetpub: this one neither acts
    on it nor rewrites it, since it cannot know what the newer format means."""

    def __init__(self, url: str, key: str, found: int, known: int) -> None:
        super().__init__(
            f"{url}: {key} was written by a newer assetpub (format {found}, this one reads "
            f"{known}); upgrade assetpub"
        )


class InvalidRecordError(HistoryError):
    """A release record that assetpub cannot have written as it is (not JSON, fields missing,
    a key that is not the one its path and digest give): nothing it names is trusted."""

    def __init__(self, url: str, key: str, reason: str) -> None:
        super().__init__(f"{url}: {key} is not a valid release record ({reason})")
        self.key = key
        self.reason = reason


class CdnError(AssetpubError):
    """A CDN refused or failed an invalidation (unknown distribution, credentials, too many in
    progress). After a switch it is a warning, with the command that retries it."""


class HealthCheckError(AssetpubError):
    """A health check after a switch failed (`--check-url`, `--check-cmd`): the message names
    the failing check and what was done about it (rolled back, or left live)."""

    exit_code = 3


class NotConfirmedError(AssetpubError):
    """A command that deletes what cannot be restored was not confirmed: nothing changed."""

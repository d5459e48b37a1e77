"""status: which release each origin has live, and divergence between origins."""

from __future__ import annotations

from fixture_types import MakeBuild, MakeOrigin
from history_support import site

from assetpub.commands.publish import publish
from assetpub.commands.rollback import rollback
from assetpub.commands.status import divergence, origin_status
from assetpub.settings import PublishSettings


def test_status_flags_divergence(make_build: MakeBuild, make_origin: MakeOrigin) -> None:
    a, b = make_origin(), make_origin()
    for version in (1, 2):
        publish(PublishSettings(make_build(site(version)), ()), origins=[a, b])
    assert divergence([origin_status(a), origin_status(b)]) == []
    rollback([a])
    reasons = divergence([origin_status(a), origin_status(b)])
    assert len(reasons) == 1 and "different releases" in reasons[0]

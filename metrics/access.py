"""Who is looking: one `Viewer` object carries every scope decision of the dashboard.

Why one object: disclosure control and per-GP visibility must not be decided page by page.
Pages ask the viewer which rule applies to a practice and whether named-GP figures may show.
This module is the seam for sign-in (st.login / OIDC and an access-policy file, issue #5): a
signed-in viewer is built the same way with narrower scopes; pages do not change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from metrics.disclosure import NHS_RULE, NO_CONTROL, DisclosureRule

LOCAL_BANNER = ("Local single-user mode: no sign-in is configured, so this computer's user "
                "sees every practice in full. Shared views and exports still apply the NHS "
                "disclosure rule.")


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str  # "local", later "practice", "reviewer", "admin", "none"
    # Practices this viewer may see in full (exact numbers, named-GP lists); None = every one.
    full_practices: frozenset[str] | None = frozenset()
    per_gp: bool = False  # may see per-GP (named list) figures of practices seen in full
    can_upload: bool = False  # may replace the database from the Data page
    banner: str | None = None  # shown on every page when set
    shared_rule: DisclosureRule = NHS_RULE  # for every cross-practice view and export

    def sees_in_full(self, practice: str | None) -> bool:
        if practice is None:
            return False
        return self.full_practices is None or practice in self.full_practices

    def rule_for(self, practice: str | None) -> DisclosureRule:
        """Exact numbers for a practice's own view, the shared rule otherwise."""
        return NO_CONTROL if self.sees_in_full(practice) else self.shared_rule

    def shows_gp_lists(self, practice: str | None) -> bool:
        """Per-GP figures: only in the practice's own view, and only if the role allows."""
        return self.per_gp and self.sees_in_full(practice)

    def visible_practices(self, codes: Iterable[str]) -> list[str]:
        """Practices selectable as 'my practice' (others appear only in aggregate views)."""
        codes = list(codes)
        if self.full_practices is None:
            return codes
        return [c for c in codes if c in self.full_practices]


def local_viewer() -> Viewer:
    """The single user of a local install (no [auth] configured): everything, with a banner."""
    return Viewer(name="local user", role="local", full_practices=None, per_gp=True,
                  can_upload=True, banner=LOCAL_BANNER)

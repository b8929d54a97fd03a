"""Who is looking: one `Viewer` object carries every scope decision of the dashboard.

Why one object: disclosure control, per-GP visibility and which practices appear at all must
not be decided page by page. Pages ask the viewer which rule applies to a practice, whether
named-GP figures may show, and (for reviewers) which rows are in scope.

Who the viewer is comes from `session_viewer()`: without `[auth]` in .streamlit/secrets.toml a
local single-user mode (everything, with a banner); with it, OIDC sign-in (`st.login`) and the
access policy file (metrics.access.policy), which names the trusted issuers (iss) or Entra
tenants (tid) and maps the signed-in, verified address or its domain to a role:

- practice: its own practices in full (exact numbers, named-GP lists); every other practice
  only in aggregate views under the NHS disclosure rule;
- reviewer: only practices of its PCNs or ICBs appear, always under the disclosure rule, with
  no named-GP figures and no data loading;
- admin: everything, and may load data.

Nobody sees patient-level rows: no page or export has them (metrics.disclosure refuses them).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import polars as pl

from metrics.access.policy import Grant, Policy, PolicyError, load_policy
from metrics.disclosure import NHS_RULE, NO_CONTROL, DisclosureRule

LOCAL_BANNER = ("Local single-user mode: no sign-in is configured, so this computer's user "
                "sees every practice in full. Shared views and exports still apply the NHS "
                "disclosure rule.")
POLICY_ENV = "CONTINUITY_ACCESS_POLICY"
NO_ENTRY = ("You are signed in as {email}, but the access policy has no entry for this "
            "address or its domain, so no figures are shown. Ask your practice manager or the "
            "ICB's dashboard administrator to add you.")
# What a visitor sees when sign-in or the policy cannot be used: the reason (a server path,
# other people's addresses) goes to the server log only.
MISCONFIGURED = ("Access to the dashboard is misconfigured, so no data is shown. Please contact "
                 "the dashboard administrator.")
T = TypeVar("T")
log = logging.getLogger("metrics.access")  # the name operators filter the server log by


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str  # "local", "practice", "reviewer" or "admin"
    # Practices this viewer may see in full (exact numbers, named-GP lists); None = every one.
    full_practices: frozenset[str] | None = frozenset()
    per_gp: bool = False  # may see per-GP (named list) figures of practices seen in full
    can_upload: bool = False  # may replace the database from the Data page
    banner: str | None = None  # shown on every page when set
    shared_rule: DisclosureRule = NHS_RULE  # for every cross-practice view and export
    # Reviewers: only practices of these PCNs or ICBs appear at all. None = no restriction.
    scope_pcns: frozenset[str] | None = None
    scope_icbs: frozenset[str] | None = None
    # The scope resolved against the practice directory by `scoped` (None until then).
    practices_in_scope: frozenset[str] | None = None
    pcns_in_scope: frozenset[str] | None = None

    def sees_in_full(self, practice: str | None) -> bool:
        if practice is None or not self.in_scope(practice):
            return False
        return self.full_practices is None or practice in self.full_practices

    def rule_for(self, practice: str | None) -> DisclosureRule:
        """Exact numbers for a practice's own view, the shared rule otherwise."""
        return NO_CONTROL if self.sees_in_full(practice) else self.shared_rule

    def shows_gp_lists(self, practice: str | None) -> bool:
        """Per-GP figures: only in the practice's own view, and only if the role allows."""
        return self.per_gp and self.sees_in_full(practice)

    @property
    def sees_everything(self) -> bool:
        """Every practice in full (admin, local mode): store-wide exact totals may show."""
        return self.full_practices is None and not self.restricted

    @property
    def restricted(self) -> bool:
        """True when some practices must not appear at all (a reviewer's scope)."""
        return self.scope_pcns is not None or self.scope_icbs is not None

    def scoped(self, directory: pl.DataFrame) -> Viewer:
        """The scope resolved against the practice directory (practice_code, pcn_code,
        icb_code): practices of the listed PCNs or ICBs, and the PCNs they belong to."""
        if not self.restricted:
            return self
        pcns, icbs = sorted(self.scope_pcns or ()), sorted(self.scope_icbs or ())
        rows = directory.filter(pl.col("pcn_code").is_in(pcns) | pl.col("icb_code").is_in(icbs))
        return replace(self, practices_in_scope=frozenset(rows["practice_code"].to_list()),
                       pcns_in_scope=frozenset(rows["pcn_code"].drop_nulls().to_list()))

    def in_scope(self, practice: str | None) -> bool:
        """May this practice appear at all? (Unresolved scope: nothing does.)"""
        if not self.restricted:
            return True
        return self.practices_in_scope is not None and practice in self.practices_in_scope

    def pcn_in_scope(self, pcn: str | None) -> bool:
        if not self.restricted:
            return True
        return self.pcns_in_scope is not None and pcn in self.pcns_in_scope

    def visible_practices(self, codes: Iterable[str]) -> list[str]:
        """Practices selectable in the sidebar: a practice user's own, a reviewer's in-scope
        practices (in aggregate), everyone's for admin and local users."""
        codes = [c for c in codes if self.in_scope(c)]
        if self.full_practices is None or self.restricted:
            return codes
        return [c for c in codes if c in self.full_practices]

    def restrict_frame(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Rows about practices (or PCNs) outside the scope removed; other rows (benchmarks
        such as all practices or deprivation bands) kept."""
        if not self.restricted:
            return frame
        if "practice_code" in frame.columns:
            keep = sorted(self.practices_in_scope or ())
            return frame.filter(pl.col("practice_code").is_in(keep))
        if "pcn_code" in frame.columns:
            return frame.filter(pl.col("pcn_code").is_in(sorted(self.pcns_in_scope or ())))
        return frame

    def restrict(self, tables: Mapping[str, T]) -> dict[str, T]:
        """Page tables (metrics.read.table.Table) with out-of-scope rows removed; a table that
        lost rows says so in its scope line, which every export repeats."""
        out: dict[str, T] = {}
        for key, table in tables.items():
            frame: pl.DataFrame = table.frame  # type: ignore[attr-defined]
            kept = self.restrict_frame(frame)
            if kept is not frame:
                table = replace(table, frame=kept,  # type: ignore[type-var]
                                scope=f"{table.scope}; {self.scope_text()}")  # type: ignore
            out[key] = table
        return out

    def scope_text(self) -> str:
        parts = [f"PCN {', '.join(sorted(self.scope_pcns))}" if self.scope_pcns else "",
                 f"ICB {', '.join(sorted(self.scope_icbs))}" if self.scope_icbs else ""]
        return "only practices of " + " and ".join(p for p in parts if p)

    def describe(self) -> str:
        """One line on what this viewer sees, for the sidebar."""
        if self.role == "local":
            return LOCAL_BANNER
        if self.role == "admin":
            return "Administrator: every practice in full, named-GP lists, and data loading."
        if self.role == "reviewer":
            return (f"Network reviewer: {self.scope_text()}, under the NHS disclosure rule; "
                    "no named-GP figures.")
        own = ", ".join(sorted(self.full_practices or ()))
        lists = " and named-GP lists" if self.per_gp else ""
        return (f"Practice {own}: exact figures{lists} for your practice; other practices "
                "only in aggregate under the NHS disclosure rule.")


def local_viewer() -> Viewer:
    """The single user of a local install (no [auth] configured): everything, with a banner."""
    return Viewer(name="local user", role="local", full_practices=None, per_gp=True,
                  can_upload=True, banner=LOCAL_BANNER)


def viewer_from_grant(name: str, grant: Grant) -> Viewer:
    """The viewer a policy entry describes."""
    if grant.role == "admin":
        return Viewer(name, "admin", full_practices=None, per_gp=True, can_upload=True)
    if grant.role == "reviewer":
        return Viewer(name, "reviewer", full_practices=frozenset(), per_gp=False,
                      scope_pcns=grant.pcns, scope_icbs=grant.icbs)
    return Viewer(name, "practice", full_practices=grant.practices, per_gp=grant.per_gp)


@dataclass(frozen=True)
class NoAccess:
    """A signed-in user who may see nothing, and the one line that tells them why."""

    message: str


def verified(claim: object) -> bool:
    """An email_verified claim that says yes: true, or the text "true" some providers send.
    Absent, false, 0, "" or anything else is not a verification. Only an absent claim can be
    made good by the policy (an issuer whose emails_verified = true); an explicit "no" from
    the provider always stands."""
    return claim is True or (isinstance(claim, str) and claim.strip().lower() == "true")


def decide(identity: Mapping[str, Any], policy: Policy) -> Viewer | NoAccess:
    """The viewer for a signed-in identity (st.user's claims: the ID token's iss, tid, email,
    email_verified, name, ...), or why there is none."""
    issuer = identity.get("iss")
    if not policy.trusts(issuer, identity.get("tid")):
        return NoAccess(f"You signed in through {issuer or 'a provider that gave no issuer'}, "
                        "which the access policy does not trust, so no figures are shown. Sign "
                        "in with your organisation account, or ask the dashboard administrator.")
    email = identity.get("email")
    if not isinstance(email, str) or not email.strip():
        return NoAccess("Your sign-in did not give an email address, so your access cannot be "
                        "looked up. Ask the dashboard administrator to check the sign-in "
                        "provider's settings (the email scope).")
    claim = identity.get("email_verified")  # Entra ID never sends it
    if not (verified(claim) or (claim is None and policy.emails_verified_by(issuer))):
        return NoAccess(f"The sign-in provider has not verified the address {email}, so it "
                        "cannot be used to decide access.")
    grant = policy.grant_for(email)
    if grant is None:
        return NoAccess(NO_ENTRY.format(email=email))
    name = identity.get("name")
    return viewer_from_grant(name if isinstance(name, str) and name else email, grant)


class AccessConfigError(RuntimeError):
    """Sign-in or the access policy is misconfigured: show this line and no data."""


def auth_configured(secrets: Any, secrets_files: Iterable[str] = ()) -> bool:
    """True when `[auth]` is in the secrets. A secrets file that exists but cannot be read is
    an error, not local mode: a broken [auth] must never open everything to everyone."""
    if secrets.load_if_toml_exists():
        return "auth" in secrets
    broken = [p for p in secrets_files if Path(p).exists()]
    if broken:
        raise AccessConfigError(f"{broken[0]} exists but cannot be read (check its TOML): "
                                "sign-in cannot be set up, so no data is shown")
    return False


def _access_section(secrets: Any) -> Mapping[str, Any]:
    try:
        section = secrets.get("access", {})
    except FileNotFoundError:  # st.secrets without any secrets file
        return {}
    return section if isinstance(section, Mapping) else {}


def policy_path(secrets: Any) -> str | None:
    """$CONTINUITY_ACCESS_POLICY, else `[access] policy_file` in the secrets, else None."""
    value = os.environ.get(POLICY_ENV) or _access_section(secrets).get("policy_file")
    return str(value) if value else None


def login_provider(secrets: Any) -> str | None:
    """`[access] provider`, else the only named provider under [auth], else the default."""
    chosen = _access_section(secrets).get("provider")
    if chosen:
        return str(chosen)
    auth = secrets["auth"]
    named = [k for k, v in auth.items() if isinstance(v, Mapping)]
    return named[0] if len(named) == 1 and "client_id" not in auth else None


def plain(text: str) -> str:
    """Text from an identity provider, with markdown characters escaped for st.markdown."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~])", r"\\\1", text)


def session_viewer() -> Viewer:
    """Who is looking in this Streamlit run. Without [auth]: the local user. With it: the
    signed-in user's viewer; otherwise draws the sign-in screen, a no-access message or a
    configuration error, and stops the run, so no page (and no data) is ever reached."""
    import streamlit as st

    try:
        auth = auth_configured(st.secrets, st.get_option("secrets.files"))
    except AccessConfigError as exc:
        misconfigured(str(exc))
    if not auth:
        if policy_path(st.secrets):
            misconfigured("an access policy is configured but sign-in is not ([auth] is "
                          "missing from .streamlit/secrets.toml)")
        return local_viewer()
    if not st.user.get("is_logged_in"):
        sign_in_screen(login_provider(st.secrets))
        st.stop()
    identity = st.user.to_dict()
    who = identity.get("email") or identity.get("name") or "unknown user"
    with st.sidebar:
        st.caption(f"Signed in as {plain(str(who))}")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            st.logout()
            st.stop()  # nothing more for this run: the browser is sent to the sign-out page
    try:
        path = policy_path(st.secrets)
        if path is None:
            raise PolicyError("sign-in is configured but no access policy is: set [access] "
                              f"policy_file in .streamlit/secrets.toml or ${POLICY_ENV}")
        decision = decide(identity, load_policy(path))
    except PolicyError as exc:
        misconfigured(str(exc))
    except Exception as exc:  # whatever else goes wrong deciding access: fail closed
        log.exception("access check failed")
        misconfigured(f"access check failed ({type(exc).__name__})")
    if isinstance(decision, NoAccess):
        st.title("No access")
        st.error(plain(decision.message), icon=":material/lock:")
        st.stop()
    with st.sidebar:
        st.caption(decision.describe())
    return decision


def misconfigured(reason: str) -> NoReturn:
    """Stop the run with the plain misconfiguration line; the reason goes to the server log."""
    import streamlit as st

    log.error("access refused, sign-in or the access policy is misconfigured: %s", reason)
    st.error(MISCONFIGURED, icon=":material/error:")
    st.stop()
    raise SystemExit(MISCONFIGURED)  # st.stop() returns outside a Streamlit run: go no further


def sign_in_screen(provider: str | None) -> None:
    """The only thing a signed-out visitor sees."""
    import streamlit as st
    from streamlit.errors import StreamlitAuthError

    st.title("Continuity of care")
    st.write("Sign in with your organisation account. What you see depends on your role: "
             "your practice in full, or aggregates for your network or ICB.")
    if st.button("Sign in", type="primary", key="sign_in", icon=":material/login:"):
        try:
            st.login(provider)
        except StreamlitAuthError as exc:
            st.error("Sign-in is not available: " + " ".join(str(exc).split()),
                     icon=":material/error:")

"""Who sees what: the Viewer's decisions, then the whole dashboard (AppTest with `at.user`) for
each role, a signed-in user with no entry, a signed-out visitor and the local mode.

The database is tests/access_support.py's three practices: Riverside A81001 (SLICC 24 of 36,
9 eligible patients, named-GP lists GA 7 and GB 2), Hillside A81002 in the same PCN (U00001)
and ICB (QAA), Far Away B82001 in PCN U00002 and ICB QBB (SLICC 3 of 6). Under the NHS rule
24/36 is shown as 25/35 = 71.4%, and every count of 1-7 as '*'.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from metrics import access, uploads
from metrics.access import NoAccess, Viewer, decide, local_viewer, viewer, viewer_from_grant
from metrics.access.policy import Grant, Policy, parse_policy
from metrics.disclosure import NHS_RULE, NO_CONTROL
from tests.access_support import FAR, NEIGHBOUR, OWN, PRACTICES, REJECTED_RAW_VALUE, build_db

ROOT = Path(__file__).resolve().parents[2]
DIRECTORY = pl.DataFrame(PRACTICES).select("practice_code", "pcn_code", "icb_code")
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "test-secret",
        "client_id": "client", "client_secret": "secret",
        "server_metadata_url": "https://login.example/.well-known/openid-configuration"}
TENANT = "3f5e1a2b-7c4d-4e8f-9a0b-1c2d3e4f5a6b"
NHSMAIL = f"https://login.microsoftonline.com/{TENANT}/v2.0"  # an Entra ID tenant's issuer
ENTRA = {"iss": NHSMAIL, "tid": TENANT}  # claims as Entra ID sends them: no email_verified
POLICY = f"""
[identity.issuers."{NHSMAIL}"]
emails_verified = true

[users."partner@riverside.nhs.uk"]
role = "practice"
practices = ["{OWN}"]

[domains."riversidesurgery.nhs.uk"]
role = "practice"
practices = ["{OWN}"]
per_gp = false

[users."pcn.lead@nhs.net"]
role = "reviewer"
pcns = ["U00001"]

[users."far.reviewer@icb.example.nhs.uk"]
role = "reviewer"
icbs = ["QBB"]

[users."admin@icb.example.nhs.uk"]
role = "admin"
"""
LABELS = {p["practice_code"]: f"{p['practice_code']} {p['practice_name']}" for p in PRACTICES}


# ---- the Viewer's decisions ---------------------------------------------------------------


def practice_viewer(per_gp: bool = True) -> Viewer:
    return viewer_from_grant("Jane", Grant("practice", practices=frozenset({OWN}),
                                           per_gp=per_gp))


def reviewer(pcns: set[str] = frozenset(), icbs: set[str] = frozenset()) -> Viewer:
    return viewer_from_grant("Rev", Grant("reviewer", pcns=frozenset(pcns),
                                          icbs=frozenset(icbs))).scoped(DIRECTORY)


def test_the_local_user_sees_everything_with_a_banner() -> None:
    viewer = local_viewer()
    assert viewer.rule_for(FAR) is NO_CONTROL and viewer.shows_gp_lists(FAR)
    assert viewer.visible_practices([OWN, FAR]) == [OWN, FAR]
    assert viewer.can_upload and viewer.banner == access.LOCAL_BANNER


def test_a_practice_user_sees_only_their_practice_in_full() -> None:
    viewer = practice_viewer()
    assert viewer.rule_for(OWN) is NO_CONTROL and viewer.rule_for(NEIGHBOUR) is NHS_RULE
    assert viewer.shows_gp_lists(OWN) and not viewer.shows_gp_lists(NEIGHBOUR)
    assert viewer.visible_practices([OWN, NEIGHBOUR, FAR]) == [OWN]
    assert viewer.in_scope(FAR)  # others appear, in aggregate views only
    assert not viewer.can_upload
    assert not practice_viewer(per_gp=False).shows_gp_lists(OWN)


def test_a_pcn_reviewer_sees_the_practices_of_that_pcn_under_the_rule() -> None:
    viewer = reviewer(pcns={"U00001"})
    assert viewer.practices_in_scope == {OWN, NEIGHBOUR}
    assert viewer.pcns_in_scope == {"U00001"}
    assert viewer.visible_practices([OWN, NEIGHBOUR, FAR]) == [OWN, NEIGHBOUR]
    assert viewer.rule_for(OWN) is NHS_RULE and not viewer.shows_gp_lists(OWN)
    assert not viewer.can_upload


def test_an_icb_reviewer_sees_the_practices_and_pcns_of_that_icb() -> None:
    viewer = reviewer(icbs={"QBB"})
    assert viewer.practices_in_scope == {FAR} and viewer.pcns_in_scope == {"U00002"}
    assert not viewer.in_scope(OWN) and not viewer.pcn_in_scope("U00001")


def test_an_unresolved_scope_shows_nothing() -> None:
    unresolved = viewer_from_grant("Rev", Grant("reviewer", pcns=frozenset({"U00001"})))
    assert unresolved.visible_practices([OWN, NEIGHBOUR]) == []
    assert unresolved.restrict_frame(pl.DataFrame({"practice_code": [OWN]})).height == 0


def test_restrict_removes_rows_outside_the_scope_and_says_so() -> None:
    from metrics.read import Table

    viewer = reviewer(pcns={"U00001"})
    practices = Table("p", "Practices", pl.DataFrame({"practice_code": [OWN, NEIGHBOUR, FAR],
                                                      "pcn_code": ["U00001", "U00001",
                                                                   "U00002"]}),
                      "practice level", NHS_RULE)
    pcns = Table("n", "PCNs", pl.DataFrame({"pcn_code": ["U00001", "U00002"]}), "pcn level",
                 NHS_RULE)
    bands = Table("b", "Bands", pl.DataFrame({"practice_imd_quintile": ["1", "5"]}),
                  "practice_imd_quintile level", NHS_RULE)
    out = viewer.restrict({"p": practices, "n": pcns, "b": bands})
    assert out["p"].frame["practice_code"].to_list() == [OWN, NEIGHBOUR]
    assert out["n"].frame["pcn_code"].to_list() == ["U00001"]
    assert out["p"].scope == "practice level; only practices of PCN U00001"
    assert out["b"] is bands  # a benchmark over every practice is not a named practice
    assert local_viewer().restrict({"p": practices})["p"] is practices


GOOGLE = "https://accounts.google.com"  # a provider that sends email_verified itself


def admin_policy(identity: dict) -> Policy:
    return parse_policy({"identity": identity, "users": {"a@b.nhs.uk": {"role": "admin"}}})


def test_decide_looks_up_the_verified_address() -> None:
    policy = admin_policy({"issuers": {GOOGLE: {}}})
    admin = decide({"iss": GOOGLE, "email": "A@B.nhs.uk", "name": "Ann Admin",
                    "email_verified": True}, policy)
    assert isinstance(admin, Viewer) and admin.role == "admin" and admin.name == "Ann Admin"
    assert admin.can_upload and admin.full_practices is None
    for claims, says in (({"email": "c@b.nhs.uk", "email_verified": True}, "no entry"),
                         ({"name": "No Email"}, "did not give an email address"),
                         ({"email": "a@b.nhs.uk", "email_verified": False}, "not verified"),
                         ({"email": "a@b.nhs.uk", "email_verified": "false"}, "not verified")):
        decision = decide({"iss": GOOGLE, **claims}, policy)
        assert isinstance(decision, NoAccess) and says in decision.message


@pytest.mark.parametrize("claim", [None, False, "false", "False", 0, "", "0", "no", [True]])
def test_an_address_the_provider_does_not_say_is_verified_decides_nothing(claim: object) -> None:
    claims = {"iss": GOOGLE, "email": "a@b.nhs.uk"}
    if claim is not None:  # None: the claim is absent
        claims["email_verified"] = claim
    decision = decide(claims, admin_policy({"issuers": {GOOGLE: {}}}))
    assert decision == NoAccess("The sign-in provider has not verified the address a@b.nhs.uk, "
                                "so it cannot be used to decide access.")
    assert isinstance(decide({**claims, "email_verified": "TRUE"},
                             admin_policy({"issuers": {GOOGLE: {}}})), Viewer)


def test_an_entra_tenant_the_policy_vouches_for_needs_no_email_verified_claim() -> None:
    policy = admin_policy({"issuers": {NHSMAIL: {"emails_verified": True}}})
    admin = decide({**ENTRA, "email": "a@b.nhs.uk", "name": "Ann"}, policy)
    assert isinstance(admin, Viewer) and admin.role == "admin"
    # an explicit "no" from the provider still stands
    refused = decide({**ENTRA, "email": "a@b.nhs.uk", "email_verified": False}, policy)
    assert isinstance(refused, NoAccess) and "not verified" in refused.message
    # a tenant listed by id is trusted, but its addresses are not vouched for
    by_tenant = admin_policy({"tenants": [TENANT]})
    assert isinstance(decide({**ENTRA, "email": "a@b.nhs.uk"}, by_tenant), NoAccess)
    assert isinstance(decide({**ENTRA, "email": "a@b.nhs.uk", "email_verified": True},
                             by_tenant), Viewer)


@pytest.mark.parametrize("claims", [
    {"iss": "https://login.microsoftonline.com/0badc0de-0000-4000-8000-000000000000/v2.0",
     "tid": "0badc0de-0000-4000-8000-000000000000"},  # another organisation's Entra tenant
    {"iss": "https://evil.example/v2.0", "tid": "0badc0de-0000-4000-8000-000000000000"},
    {"iss": NHSMAIL + "/"},  # issuers are compared exactly
    {},  # no issuer at all
], ids=["other-tenant", "other-issuer", "near-miss", "none"])
def test_a_sign_in_from_an_untrusted_issuer_or_tenant_decides_nothing(claims: dict) -> None:
    policy = admin_policy({"issuers": {NHSMAIL: {"emails_verified": True}}, "tenants": [TENANT]})
    decision = decide({**claims, "email": "a@b.nhs.uk", "email_verified": True}, policy)
    assert isinstance(decision, NoAccess)
    assert "which the access policy does not trust, so no figures are shown" in decision.message


class FakeSecrets(dict):
    def __init__(self, data: dict, found: bool = True) -> None:
        super().__init__(data)
        self.found = found

    def load_if_toml_exists(self) -> bool:
        return self.found


def test_auth_mode_comes_from_the_secrets_and_a_broken_file_fails_closed(tmp_path: Path
                                                                          ) -> None:
    assert access.auth_configured(FakeSecrets({"auth": AUTH}))
    assert not access.auth_configured(FakeSecrets({}, found=False), [str(tmp_path / "none")])
    broken = tmp_path / "secrets.toml"
    broken.write_text("[auth\n")
    with pytest.raises(access.AccessConfigError, match="exists but cannot be read"):
        access.auth_configured(FakeSecrets({}, found=False), [str(broken)])


def test_the_policy_path_comes_from_the_environment_first(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    secrets = FakeSecrets({"access": {"policy_file": "from_secrets.toml"}})
    monkeypatch.delenv(access.POLICY_ENV, raising=False)
    assert access.policy_path(secrets) == "from_secrets.toml"
    assert access.policy_path(FakeSecrets({})) is None
    monkeypatch.setenv(access.POLICY_ENV, "from_env.toml")
    assert access.policy_path(secrets) == "from_env.toml"


def test_the_login_provider_is_named_or_the_only_one() -> None:
    assert access.login_provider(FakeSecrets({"auth": AUTH})) is None  # the default provider
    assert access.login_provider(FakeSecrets({"auth": {"cookie_secret": "x",
                                                       "microsoft": {"client_id": "c"}}})
                                 ) == "microsoft"
    assert access.login_provider(FakeSecrets({"auth": AUTH, "access": {"provider": "nhs"}})
                                 ) == "nhs"


def test_upload_limits_per_file_and_per_load(monkeypatch: pytest.MonkeyPatch) -> None:
    class File:
        def __init__(self, name: str, size: int) -> None:
            self.name, self.size = name, size

    monkeypatch.setattr(uploads, "MAX_FILE_BYTES", 3 * uploads.MB)
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 5 * uploads.MB)
    assert uploads.size_problem([File("a.csv", 3 * uploads.MB), None]) is None
    assert uploads.size_problem([File("a.csv", 3 * uploads.MB + 1)]) == (
        "a.csv is 3.1 MB, more than the 3.0 MB allowed per file: split the extract (several "
        "files can be loaded together).")
    problem = uploads.size_problem([File("a.csv", 3 * uploads.MB), File("b.csv", 2 * uploads.MB),
                                    File("p.csv", 1)])
    assert problem is not None and problem.startswith(
        "The 3 uploaded files add up to 5.1 MB, more than the 5.0 MB allowed in one load")


# ---- the dashboard, signed in as each role --------------------------------------------------


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_db(tmp_path_factory.mktemp("access") / "continuity.duckdb")


@pytest.fixture
def policy(tmp_path: Path) -> Path:
    path = tmp_path / "access_policy.toml"
    path.write_text(POLICY, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def environment(database: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("CONTINUITY_DB", str(database))
    monkeypatch.delenv(access.POLICY_ENV, raising=False)
    yield


def dashboard(policy: Path | None, email: str | None = None, *, signed_in: bool = True,
              practice: str | None = None, **claims: object) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    if policy is not None:
        at.secrets["auth"] = AUTH
        at.secrets["access"] = {"policy_file": str(policy)}
        at.user = {"is_logged_in": signed_in, "email": email, "name": email, **ENTRA,
                   **claims}
    if practice:
        at.query_params["practice"] = practice
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def visit(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"views/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sidebar_options(at: AppTest, label: str) -> list[str]:
    return next(s.options for s in at.sidebar.selectbox if s.label == label)


def tables(at: AppTest, *columns: str) -> list[pd.DataFrame]:
    """The page's dataframes that have these columns, in page order."""
    return [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]


def table(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first dataframe on the page with these columns."""
    found = tables(at, *columns)
    assert found, f"no table with {columns}"
    return found[0]


def has_table(at: AppTest, column: str) -> bool:
    return any(column in d.value.columns for d in at.dataframe)


def row(frame: pd.DataFrame, column: str, value: str) -> dict:
    rows = frame[frame[column] == value]
    assert len(rows) == 1, f"{value} in {column}: {len(rows)} rows"
    return rows.iloc[0].to_dict()


def shows_nothing(at: AppTest) -> bool:
    """No data element and no filters: nothing reached a page."""
    return not at.dataframe and not at.sidebar.selectbox and not at.get("plotly_chart")


def test_local_mode_shows_its_banner_every_practice_and_the_upload(policy: Path) -> None:
    at = dashboard(None)
    assert at.info[0].value == access.LOCAL_BANNER
    assert sidebar_options(at, "Practice") == [LABELS[OWN], LABELS[NEIGHBOUR], LABELS[FAR]]
    visit(at, "data")
    assert at.get("file_uploader")


def test_a_practice_user_sees_their_practice_exactly_and_others_controlled(policy: Path
                                                                           ) -> None:
    at = dashboard(policy, "partner@riverside.nhs.uk", practice=OWN)
    assert sidebar_options(at, "Practice") == [LABELS[OWN]]
    assert sidebar_options(at, "PCN") == ["U00001 Riverside PCN", "U00002 Faraway PCN"]
    assert not at.info  # no local-mode banner

    visit(at, "practice")
    own = row(table(at, "unit", "level"), "unit", f"Practice {OWN}")
    # exact; text on screen, since its two-practice PCN's row beside it shows '*'
    assert (own["slicc_numerator"], own["slicc_denominator"]) == ("24", "36")
    assert own["slicc"] == "66.7%"  # 24 / 36, formatted as text beside the '*' cells
    lists = table(at, "named_gp")
    assert lists["named_gp"].tolist() == ["GA", "GB"]
    assert lists["list_patients"].tolist() == [7, 2]

    visit(at, "networks")
    shared = table(at, "practice_code", "list_size")  # the funnel: every practice, controlled
    assert sorted(shared["practice_code"]) == [OWN, NEIGHBOUR, FAR]
    assert row(shared, "practice_code", NEIGHBOUR)["slicc_numerator"] == "*"  # 7
    assert row(shared, "practice_code", FAR)["slicc_numerator"] == "*"  # 3
    # shared rule here, and Riverside is the only other member of the neighbour's PCN: shown,
    # its 24 would give the neighbour's 7 back from the PCN's total (complementary suppression)
    assert row(shared, "practice_code", OWN)["slicc_numerator"] == "*"
    assert row(shared, "practice_code", OWN)["slicc_denominator"] == "35"  # nothing hidden

    visit(at, "data")
    assert not at.get("file_uploader")
    assert "Loading data is for" in at.info[0].value
    # store-wide exact totals less one's own would give the other practices' counts
    assert not at.metric and not has_table(at, "measure")
    assert not has_table(at, "raw_value")  # rejected rows can name patients


def test_a_practice_entry_without_per_gp_sees_no_named_gp_lists(policy: Path) -> None:
    at = visit(dashboard(policy, "reception@riversidesurgery.nhs.uk", practice=OWN), "practice")
    own = row(table(at, "unit", "level"), "unit", f"Practice {OWN}")
    assert (own["slicc_numerator"], own["slicc_denominator"]) == ("24", "36")
    assert not has_table(at, "named_gp")


def test_a_pcn_reviewer_sees_only_that_pcn_in_aggregate(policy: Path) -> None:
    at = dashboard(policy, "pcn.lead@nhs.net", practice=OWN)
    assert sidebar_options(at, "Practice") == [LABELS[OWN], LABELS[NEIGHBOUR]]
    assert sidebar_options(at, "PCN") == ["U00001 Riverside PCN"]

    visit(at, "practice")
    own = row(table(at, "unit", "level"), "unit", f"Practice {OWN}")
    assert (own["slicc_numerator"], own["slicc_denominator"]) == ("25", "35")  # 24/36 rounded
    assert own["slicc"] == "71.4%"  # 25 / 35
    assert not has_table(at, "named_gp")
    assert any("Per-GP figures appear only" in i.value for i in at.info)

    visit(at, "networks")
    practices = table(at, "practice_code", "list_size")
    assert sorted(practices["practice_code"]) == [OWN, NEIGHBOUR]
    for other in tables(at, "practice_code"):
        assert set(other["practice_code"]) <= {OWN, NEIGHBOUR}
    assert row(practices, "practice_code", NEIGHBOUR)["slicc"] == "*"
    pcns = [d.value for d in at.dataframe
            if "pcn_code" in d.value.columns and "practice_code" not in d.value.columns]
    assert pcns and all(set(p["pcn_code"]) == {"U00001"} for p in pcns)
    assert FAR not in str([d.value.to_dict() for d in at.dataframe])

    visit(at, "data")
    assert not at.get("file_uploader")
    assert "Loading data is for" in at.info[0].value
    # store-wide exact totals less one's own would give the other practices' counts
    assert not at.metric and not has_table(at, "measure")


def test_a_reviewer_cannot_reach_a_practice_outside_the_scope_by_its_link(policy: Path
                                                                          ) -> None:
    for link in (FAR, LABELS[FAR]):
        at = visit(dashboard(policy, "pcn.lead@nhs.net", practice=link), "practice")
        assert next(s for s in at.sidebar.selectbox if s.label == "Practice").value is None
        assert "Far Away" not in str([m.value for m in at.markdown])
        assert not has_table(at, "unit")


def test_an_icb_reviewer_sees_that_icbs_practices_only(policy: Path) -> None:
    at = dashboard(policy, "far.reviewer@icb.example.nhs.uk")
    assert sidebar_options(at, "Practice") == [LABELS[FAR]]
    assert sidebar_options(at, "PCN") == ["U00002 Faraway PCN"]


def test_a_reviewer_picks_funnel_scopes_only_within_the_scope(policy: Path) -> None:
    at = visit(dashboard(policy, "far.reviewer@icb.example.nhs.uk"), "networks")
    at.radio(key="scope").set_value("pcn").run()
    assert at.selectbox(key="scope_code").options == ["U00002"]


def test_an_admin_sees_any_practice_in_full_and_may_upload(policy: Path) -> None:
    at = dashboard(policy, "admin@icb.example.nhs.uk", practice=FAR)
    assert sidebar_options(at, "Practice") == [LABELS[OWN], LABELS[NEIGHBOUR], LABELS[FAR]]
    visit(at, "practice")
    far = row(table(at, "unit", "level"), "unit", f"Practice {FAR}")
    # r1 MMN and r2 MNN with named GP FM: 3 of 6, exact (its PCN's row, 3/6, shows '*', so
    # the column is text on screen)
    assert (far["slicc_numerator"], far["slicc_denominator"]) == ("3", "6")
    assert table(at, "named_gp")["named_gp"].tolist() == ["FM"]
    visit(at, "data")
    assert at.get("file_uploader")
    assert table(at, "raw_value")["raw_value"].tolist() == [REJECTED_RAW_VALUE]
    assert [m.label for m in at.metric] == ["Appointments", "Patients", "Practices"]


def test_a_signed_in_user_with_no_entry_sees_only_a_message(policy: Path) -> None:
    at = dashboard(policy, "stranger@elsewhere.nhs.uk")
    assert at.title[0].value == "No access"
    assert "no entry for this address" in at.error[0].value
    assert shows_nothing(at)
    assert [b.label for b in at.sidebar.button] == ["Sign out"]


def test_a_sign_in_from_another_tenant_sees_only_a_message(policy: Path) -> None:
    other = "0badc0de-0000-4000-8000-000000000000"
    at = dashboard(policy, "admin@icb.example.nhs.uk", email_verified=True, tid=other,
                   iss=f"https://login.microsoftonline.com/{other}/v2.0")
    assert at.title[0].value == "No access"
    assert "does not trust" in at.error[0].value
    assert shows_nothing(at)


def test_a_signed_out_visitor_sees_the_sign_in_screen_only(policy: Path) -> None:
    at = dashboard(policy, None, signed_in=False)
    assert [b.label for b in at.button] == ["Sign in"]
    assert shows_nothing(at)
    at.button(key="sign_in").click().run()  # Authlib or the provider is not set up here
    assert at.error[0].value.startswith("Sign-in is not available: ")
    assert shows_nothing(at)


def test_signing_out_leaves_no_data_on_screen(policy: Path) -> None:
    at = dashboard(policy, "admin@icb.example.nhs.uk")
    assert at.sidebar.selectbox
    at.sidebar.button(key="sign_out").click().run()
    at.run()  # the next page load, as after the sign-out redirect
    assert [b.label for b in at.button] == ["Sign in"]
    assert shows_nothing(at)


def test_removing_an_entry_takes_effect_at_the_next_click(policy: Path) -> None:
    at = dashboard(policy, "partner@riverside.nhs.uk")
    assert sidebar_options(at, "Practice") == [LABELS[OWN]]
    policy.write_text(POLICY.replace("partner@riverside.nhs.uk", "someone.else@riverside.nhs.uk"))
    at.run()
    assert "no entry" in at.error[0].value and shows_nothing(at)


def test_unverified_addresses_and_broken_policies_show_no_data(policy: Path,
                                                               tmp_path: Path) -> None:
    at = dashboard(policy, "admin@icb.example.nhs.uk", email_verified=False)
    assert "not verified" in at.error[0].value and shows_nothing(at)
    broken = tmp_path / "broken.toml"
    broken.write_text(POLICY.replace('role = "admin"', 'role = "superuser"'))
    at = dashboard(broken, "admin@icb.example.nhs.uk")
    assert [e.value for e in at.error] == [access.MISCONFIGURED] and shows_nothing(at)


def on_screen(at: AppTest) -> str:
    """Every text element of the page and sidebar, as one string."""
    return str([e.value for kind in ("title", "markdown", "caption", "error", "info", "warning",
                                      "exception") for e in at.get(kind)])


@pytest.mark.parametrize(("text", "reason"), [
    (POLICY + '[users."Partner@Riverside.nhs.uk"]\nrole = "admin"\n',
     'users."Partner@Riverside.nhs.uk": listed twice'),
    (POLICY + "a = " + "[" * 5000 + "]" * 5000 + "\n", "nests values too deeply"),
], ids=["another-users-entry", "nested-5000-deep"])
def test_a_broken_policy_tells_visitors_only_that_access_is_misconfigured(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, reason: str) -> None:
    """The reason names the policy's path and other people's addresses: server log only."""
    broken = tmp_path / "access_policy.toml"
    broken.write_text(text, encoding="utf-8")
    with caplog.at_level("ERROR", logger="metrics.access"):
        at = dashboard(broken, "admin@icb.example.nhs.uk")
    assert [e.value for e in at.error] == [
        "Access to the dashboard is misconfigured, so no data is shown. Please contact the "
        "dashboard administrator."]
    assert shows_nothing(at)
    for secret in (str(tmp_path), "access_policy.toml", "partner@riverside", reason):
        assert secret.lower() not in on_screen(at).lower(), secret
    logged = [r.getMessage() for r in caplog.records if r.name == "metrics.access"]
    assert len(logged) == 1 and str(broken) in logged[0] and reason in logged[0]


def test_an_unreadable_secrets_file_is_not_named_to_visitors(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def unreadable(*_: object) -> bool:
        raise access.AccessConfigError("/srv/continuity/.streamlit/secrets.toml exists but "
                                       "cannot be read (check its TOML)")

    monkeypatch.setattr(viewer, "auth_configured", unreadable)  # where it is called
    with caplog.at_level("ERROR", logger="metrics.access"):
        at = dashboard(None)
    assert [e.value for e in at.error] == [access.MISCONFIGURED] and shows_nothing(at)
    assert "/srv/continuity" not in on_screen(at) and not at.info  # nor local mode
    assert "/srv/continuity/.streamlit/secrets.toml exists" in caplog.text


def test_a_policy_without_sign_in_is_refused_rather_than_opened_to_all(
        policy: Path, caplog: pytest.LogCaptureFixture) -> None:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.secrets["access"] = {"policy_file": str(policy)}
    with caplog.at_level("ERROR", logger="metrics.access"):
        at.run()
    assert [e.value for e in at.error] == [access.MISCONFIGURED] and shows_nothing(at)
    assert not at.info  # no local-mode banner either
    assert "an access policy is configured but sign-in is not" in caplog.text


def test_the_data_page_refuses_a_load_larger_than_the_total_limit(
        policy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uploads, "MAX_TOTAL_BYTES", 1024)
    at = visit(dashboard(policy, "admin@icb.example.nhs.uk"), "data")
    header = b"appointment_id,patient_id,practice_code,appointment_date\n"
    part = header + b"x1,p1,A81001,2024-01-02\n" * 25  # 658 bytes each
    at.file_uploader(key="upload_appointments").set_value(
        [("jan.csv", part, "text/csv"), ("feb.csv", part, "text/csv")]).run()
    assert not at.exception
    assert at.error[0].value.startswith(
        f"The 2 uploaded files add up to {2 * len(part):,} bytes, more than the 1,024 bytes "
        "allowed in one load")
    assert "check" not in [b.key for b in at.button]  # nothing is read or checked


def test_the_secrets_example_configures_sign_in_and_names_the_policy() -> None:
    import tomllib

    secrets = tomllib.loads((ROOT / ".streamlit" / "secrets.toml.example").read_text("utf-8"))
    assert {"redirect_uri", "cookie_secret", "client_id", "client_secret",
            "server_metadata_url"} <= set(secrets["auth"])
    assert secrets["auth"]["redirect_uri"].endswith("/oauth2callback")
    assert secrets["access"]["policy_file"] == "access_policy.toml"
    assert access.auth_configured(FakeSecrets(secrets))
    assert access.login_provider(FakeSecrets(secrets)) is None  # the one default provider
    ignored = (ROOT / ".gitignore").read_text("utf-8").splitlines()
    assert ".streamlit/secrets.toml" in ignored and "access_policy.toml" in ignored


def test_the_server_listens_on_this_computer_only_and_never_shows_a_traceback() -> None:
    """What Streamlit reads from the tracked .streamlit/config.toml when started in the
    checkout: local mode shows everything, so it must not listen on other interfaces, and an
    unexpected error must not show server paths in the browser (the log has the traceback)."""
    code = ("from streamlit import config; print(config.get_option('server.address'), "
            "config.get_option('client.showErrorDetails'))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    shown = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                           capture_output=True, text=True, timeout=120).stdout.split()
    assert shown == ["127.0.0.1", "none"]


def test_an_unexpected_error_shows_a_message_but_no_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With the checkout's config, a failure no page expects (here drawing the banner raises
    with a server path in the message) reaches the browser as Streamlit's redacted notice."""
    from streamlit import config

    from views import common

    def broken(*_: object) -> None:
        raise RuntimeError("/srv/continuity/data/continuity.duckdb: broken")

    monkeypatch.chdir(ROOT)
    config.get_config_options(force_reparse=True)  # as `streamlit run` in the checkout reads it
    monkeypatch.setattr(common, "banner", broken)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=120)
    at.run()
    [error] = at.exception
    assert error.message.startswith("This app has encountered an error.")
    assert error.stack_trace == [] and "/srv/continuity" not in on_screen(at)

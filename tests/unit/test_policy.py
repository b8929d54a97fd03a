"""The access policy file: who gets which role, read strictly (any doubt means no data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.access.policy import (
    CONSUMER_TENANT,
    Grant,
    Issuer,
    PolicyError,
    load_policy,
    parse_policy,
)

ROOT = Path(__file__).resolve().parents[2]
TENANT = "3f5e1a2b-7c4d-4e8f-9a0b-1c2d3e4f5a6b"
NHSMAIL = f"https://login.microsoftonline.com/{TENANT}/v2.0"
IDENTITY = f'[identity.issuers."{NHSMAIL}"]\nemails_verified = true\n'
TRUSTED = {"issuers": {NHSMAIL: {"emails_verified": True}}}  # the same, parsed


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_documented_example_loads_and_means_what_its_comments_say() -> None:
    policy = load_policy(ROOT / "access_policy.example.toml")
    assert policy.grant_for("Jane.Partner@NHS.net") == Grant(
        "practice", practices=frozenset({"A81001"}))
    assert policy.grant_for("reception@riversidesurgery.nhs.uk") == Grant(
        "practice", practices=frozenset({"A81001"}), per_gp=False)
    assert policy.grant_for("pcn.lead@nhs.net") == Grant(
        "reviewer", pcns=frozenset({"U00001", "U00002"}))
    assert policy.grant_for("someone@icb.example.nhs.uk") == Grant(
        "reviewer", icbs=frozenset({"QAA"}))
    assert policy.grant_for("dashboard.admin@icb.example.nhs.uk") == Grant("admin")
    assert policy.grant_for("stranger@nhs.net") is None
    issuer = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0"
    assert policy.issuers == {issuer: Issuer(issuer, emails_verified=True)}
    assert policy.tenants == frozenset()


def test_sign_ins_count_from_listed_issuers_or_tenants_only() -> None:
    google = "https://accounts.google.com"
    policy = parse_policy({"identity": {"issuers": {google: {}}, "tenants": [TENANT.upper()]},
                           "users": {"a@b.nhs.uk": {"role": "admin"}}})
    assert policy.trusts(google, None)
    assert policy.trusts(f"https://sts.windows.net/{TENANT}/", TENANT)  # the tenant, any form
    assert not policy.trusts("https://accounts.google.com/", None)  # issuers match exactly
    assert not policy.trusts(NHSMAIL.replace("3f5e", "0f5e"), TENANT.replace("3f5e", "0f5e"))
    assert not policy.trusts(None, None)
    assert not policy.emails_verified_by(google)  # Google sends email_verified itself
    vouched = parse_policy({"identity": TRUSTED, "users": {"a@b.nhs.uk": {"role": "admin"}}})
    assert vouched.emails_verified_by(NHSMAIL) and not vouched.emails_verified_by(google)


def test_an_exact_address_wins_over_its_domain() -> None:
    policy = parse_policy({
        "identity": TRUSTED,
        "domains": {"icb.example.nhs.uk": {"role": "reviewer", "icbs": ["QAA"]}},
        "users": {"Boss@ICB.example.nhs.uk": {"role": "admin"}},
    })
    assert policy.grant_for("boss@icb.example.nhs.uk").role == "admin"
    assert policy.grant_for("other@icb.example.nhs.uk").role == "reviewer"


def test_a_domain_matches_only_itself_and_odd_addresses_match_nothing() -> None:
    policy = parse_policy({"identity": TRUSTED,
                           "domains": {"@riverside.nhs.uk": {"role": "practice",
                                                             "practices": ["a81001"]}}})
    assert policy.grant_for("gp@riverside.nhs.uk").practices == {"A81001"}  # codes upper-cased
    for email in ("gp@sub.riverside.nhs.uk", "gp@riverside.nhs.uk.evil.com",
                  "x@evil.com@riverside.nhs.uk", "riverside.nhs.uk", "", None,
                  "a b@riverside.nhs.uk"):
        assert policy.grant_for(email) is None, email


@pytest.mark.parametrize(("text", "message"), [
    ("", "no users or domains"),
    ("[users]\n", "no users or domains"),
    ("[user.\"a@b.nhs.uk\"]\nrole = \"admin\"\n", "unknown section 'user'"),
    ("[users.\"a@b.nhs.uk\"]\nrole = \"owner\"\n", "role must be one of practice, reviewer"),
    ("[users.\"a@b.nhs.uk\"]\nrole = \"practice\"\n", "a practice role needs practices"),
    ("[users.\"a@b.nhs.uk\"]\nrole = \"practice\"\npractises = [\"A81001\"]\n",
     "'practises' is not a setting of the practice role"),
    ("[users.\"a@b.nhs.uk\"]\nrole = \"reviewer\"\n", "a reviewer role needs pcns"),
    ("[users.\"a@b.nhs.uk\"]\nrole = \"reviewer\"\npcns = \"U00001\"\n",
     "pcns must be a list of codes"),
    ("[users.\"a@b.nhs.uk\"]\nrole = \"practice\"\npractices = [\"A81001, A81002\"]\n",
     "'A81001, A81002', which is not a code"),
    ("[users.\"a@b.nhs.uk\"]\nrole = \"admin\"\npractices = [\"A81001\"]\n",
     "'practices' is not a setting of the admin role"),
    ("[users.\"a@b.nhs.uk\"]\nrole = \"practice\"\npractices = [\"A81001\"]\nper_gp = \"no\"\n",
     "per_gp must be true or false"),
    ("[users.\"not-an-address\"]\nrole = \"admin\"\n", "not an email address"),
    ("[domains.\"nhs.net\"]\nrole = \"reviewer\"\nicbs = [\"QAA\"]\n",
     "nhs.net is shared by many organisations"),
    ("[domains.\"GMAIL.com\"]\nrole = \"admin\"\n", "gmail.com is shared"),
    ("[users.\"a@b.nhs.uk\"]\nrole = \"admin\"\n[users.\"A@B.nhs.uk\"]\nrole = \"admin\"\n",
     "listed twice"),
    ("[users.\"a@b.nhs.uk\"]\nrole = admin\n", "is not valid TOML"),
    ("a = " + "[" * 5000 + "]" * 5000 + "\n", "nests values too deeply"),
])
def test_mistakes_are_refused_with_one_line_saying_where(tmp_path: Path, text: str,
                                                           message: str) -> None:
    path = write(tmp_path, IDENTITY + text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value).strip()


def test_a_missing_or_binary_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        load_policy(tmp_path / "nowhere.toml")
    binary = tmp_path / "policy.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(binary)
    huge = tmp_path / "huge.toml"
    huge.write_bytes(b"#" * ((1 << 20) + 1))
    with pytest.raises(PolicyError, match="larger than 1 MB"):
        load_policy(huge)


ADMIN = '[users."a@b.nhs.uk"]\nrole = "admin"\n'


@pytest.mark.parametrize(("text", "message"), [
    (ADMIN, "no [identity] section: name the trusted sign-in issuers"),
    ("[identity]\n" + ADMIN, "no issuers or tenants: nobody's sign-in would count"),
    ("[identity]\ntenants = [\"<tenant-id>\"]\n" + ADMIN,
     "'<tenant-id>', which is not an Entra tenant id"),
    ("[identity]\ntenants = \"" + TENANT + "\"\n" + ADMIN, "tenants must be a list"),
    (f"[identity]\ntenants = [\"{CONSUMER_TENANT}\"]\n" + ADMIN,
     "personal Microsoft accounts, which anyone can create"),
    (f"[identity.issuers.\"https://login.microsoftonline.com/{CONSUMER_TENANT}/v2.0\"]\n"
     + ADMIN, "personal Microsoft accounts"),
    ("[identity]\ntenant = [\"" + TENANT + "\"]\n" + ADMIN, "'tenant' is not a setting"),
    ("[identity.issuers.\"login.microsoftonline.com\"]\n" + ADMIN, "not an issuer URL"),
    ("[identity.issuers.\"https://login.microsoftonline.com/{tenantid}/v2.0\"]\n" + ADMIN,
     "not an issuer URL"),
    (f"[identity.issuers.\"{NHSMAIL}\"]\nemails_verified = \"yes\"\n" + ADMIN,
     "emails_verified must be true or false"),
    (f"[identity.issuers.\"{NHSMAIL}\"]\nverified = true\n" + ADMIN,
     "the only setting is emails_verified"),
])
def test_the_trusted_issuers_must_be_named_and_well_formed(tmp_path: Path, text: str,
                                                            message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value).strip()

"""The access policy file: who gets which role, read strictly (any doubt means no data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.policy import Grant, PolicyError, load_policy, parse_policy

ROOT = Path(__file__).resolve().parents[1]


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


def test_an_exact_address_wins_over_its_domain() -> None:
    policy = parse_policy({
        "domains": {"icb.example.nhs.uk": {"role": "reviewer", "icbs": ["QAA"]}},
        "users": {"Boss@ICB.example.nhs.uk": {"role": "admin"}},
    })
    assert policy.grant_for("boss@icb.example.nhs.uk").role == "admin"
    assert policy.grant_for("other@icb.example.nhs.uk").role == "reviewer"


def test_a_domain_matches_only_itself_and_odd_addresses_match_nothing() -> None:
    policy = parse_policy({"domains": {"@riverside.nhs.uk": {"role": "practice",
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
])
def test_mistakes_are_refused_with_one_line_saying_where(tmp_path: Path, text: str,
                                                           message: str) -> None:
    path = write(tmp_path, text)
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

"""The access policy file: which signed-in users (or email domains) get which role.

Why a file of its own, read strictly: the identity provider (OIDC) only says who someone is;
what they may see is the practice's or ICB's decision, kept in a small TOML file beside the
deployment (access_policy.example.toml documents the format). Any doubt fails closed: an
unreadable file, an unknown key, a role without its codes or a shared mail domain is an error,
and the dashboard then shows no data to anyone.

    [users."jane.partner@nhs.net"]            # one person (exact address, any case)
    role = "practice"
    practices = ["A81001"]

    [domains."riversidesurgery.nhs.uk"]      # everyone with an address at this domain
    role = "practice"
    practices = ["A81001"]
    per_gp = false                           # optional: no named-GP figures for them

    [users."analyst@icb.example.nhs.uk"]
    role = "reviewer"                        # aggregates of these PCNs' and ICBs' practices
    pcns = ["U00001"]
    icbs = ["QAA"]

    [users."admin@icb.example.nhs.uk"]
    role = "admin"                           # everything, and may load data

An exact address wins over its domain.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ROLES = ("practice", "reviewer", "admin")
# Domains shared by many organisations: mapping one would grant everyone in it.
SHARED_DOMAINS = frozenset({
    "nhs.net", "nhs.uk", "gmail.com", "googlemail.com", "outlook.com", "hotmail.com",
    "hotmail.co.uk", "live.com", "live.co.uk", "yahoo.com", "yahoo.co.uk", "icloud.com",
    "me.com", "aol.com", "protonmail.com", "proton.me",
})
CODE = re.compile(r"[A-Z0-9]{1,12}")  # ODS-style codes: practices, PCNs, ICBs
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
DOMAIN = re.compile(r"[a-z0-9-]+(\.[a-z0-9-]+)+")
MAX_BYTES = 1 << 20
KEYS = {"practice": {"role", "practices", "per_gp"}, "reviewer": {"role", "pcns", "icbs"},
        "admin": {"role"}}


class PolicyError(ValueError):
    """The policy file cannot be used (one plain-English line saying where and why)."""


@dataclass(frozen=True)
class Grant:
    """One entry of the policy: a role and the codes it covers."""

    role: str
    practices: frozenset[str] = frozenset()
    pcns: frozenset[str] = frozenset()
    icbs: frozenset[str] = frozenset()
    per_gp: bool = True  # practice role: named-GP figures of its own practices


@dataclass(frozen=True)
class Policy:
    users: Mapping[str, Grant]  # lower-case email -> grant
    domains: Mapping[str, Grant]  # lower-case domain -> grant

    def grant_for(self, email: str | None) -> Grant | None:
        """The exact address's entry, else its domain's, else None (no access)."""
        if not email or not EMAIL.fullmatch(email.strip()):
            return None
        email = email.strip().lower()
        if email in self.users:
            return self.users[email]
        return self.domains.get(email.rsplit("@", 1)[1])


def _codes(entry: Mapping[str, object], key: str, where: str) -> frozenset[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"{where}: {key} must be a list of codes, e.g. {key} = [\"A81001\"]")
    codes = [v.strip().upper() for v in value]
    bad = [v for v in codes if not CODE.fullmatch(v)]
    if bad:
        raise PolicyError(f"{where}: {key} has {bad[0]!r}, which is not a code (letters and "
                          "digits only, one code per string)")
    return frozenset(codes)


def _grant(entry: object, where: str) -> Grant:
    if not isinstance(entry, dict):
        raise PolicyError(f"{where}: expected a table with role = ...")
    role = entry.get("role")
    if role not in ROLES:
        raise PolicyError(f"{where}: role must be one of {', '.join(ROLES)} (found {role!r})")
    unknown = sorted(set(entry) - KEYS[role])
    if unknown:
        raise PolicyError(f"{where}: {unknown[0]!r} is not a setting of the {role} role "
                          f"(allowed: {', '.join(sorted(KEYS[role]))})")
    per_gp = entry.get("per_gp", True)
    if not isinstance(per_gp, bool):
        raise PolicyError(f"{where}: per_gp must be true or false")
    grant = Grant(role, _codes(entry, "practices", where), _codes(entry, "pcns", where),
                  _codes(entry, "icbs", where), per_gp)
    if role == "practice" and not grant.practices:
        raise PolicyError(f"{where}: a practice role needs practices = [\"<code>\", ...]")
    if role == "reviewer" and not (grant.pcns or grant.icbs):
        raise PolicyError(f"{where}: a reviewer role needs pcns = [...] or icbs = [...]")
    return grant


def parse_policy(data: Mapping[str, object], source: str = "the access policy") -> Policy:
    """Validate a parsed policy document (see the module docstring)."""
    unknown = sorted(set(data) - {"users", "domains"})
    if unknown:
        raise PolicyError(f"{source}: unknown section {unknown[0]!r} (expected [users.\"...\"] "
                          "and [domains.\"...\"])")
    users: dict[str, Grant] = {}
    domains: dict[str, Grant] = {}
    for section, out in (("users", users), ("domains", domains)):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise PolicyError(f"{source}: [{section}] must hold one table per "
                              f"{section[:-1]}")
        for raw, entry in entries.items():
            key = raw.strip().lower()
            where = f"{source}, {section}.\"{raw}\""
            if section == "users" and not EMAIL.fullmatch(key):
                raise PolicyError(f"{where}: not an email address")
            if section == "domains":
                key = key.removeprefix("@")
                if not DOMAIN.fullmatch(key):
                    raise PolicyError(f"{where}: not an email domain (e.g. example.nhs.uk)")
                if key in SHARED_DOMAINS:
                    raise PolicyError(f"{where}: {key} is shared by many organisations; list "
                                      "its users one by one under [users]")
            if key in out:
                raise PolicyError(f"{where}: listed twice (addresses ignore case)")
            out[key] = _grant(entry, where)
    if not users and not domains:
        raise PolicyError(f"{source}: no users or domains: nobody could see anything")
    return Policy(users, domains)


def load_policy(path: str | Path) -> Policy:
    """Read and validate the TOML policy file at `path` (PolicyError if it cannot be used)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise PolicyError(f"the access policy {path} is larger than 1 MB")
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PolicyError(f"the access policy file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"the access policy {path} cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"the access policy {path} is not valid TOML ({exc})") from None
    return parse_policy(data, str(path))

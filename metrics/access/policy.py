"""The access policy file: which signed-in users (or email domains) get which role.

Why a file of its own, read strictly: the identity provider (OIDC) only says who someone is;
what they may see is the practice's or ICB's decision, kept in a small TOML file beside the
deployment (access_policy.example.toml documents the format). Any doubt fails closed: an
unreadable file, an unknown key, a role without its codes, a shared mail domain or no trusted
sign-in issuer is an error, and the dashboard then shows no data to anyone.

    [identity]                               # whose sign-ins count: these tenants or issuers
    tenants = ["<Entra tenant id>"]          # the tid claim (a GUID)

    [identity.issuers."https://login.microsoftonline.com/<tenant id>/v2.0"]  # the iss claim
    emails_verified = true                   # its organisation verifies its addresses

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

An exact address wins over its domain. A sign-in counts only when its issuer (the iss claim)
or its Entra tenant (tid) is listed under [identity], and its address only when the provider
says it is verified (email_verified) or the policy says so for that issuer: Microsoft Entra ID
sends no email_verified claim.
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
TENANT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Personal Microsoft accounts (outlook.com, hotmail.com, ...): anyone can create one.
CONSUMER_TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


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
class Issuer:
    """A trusted sign-in issuer: its iss claim, and whether its addresses count as verified
    without an email_verified claim (an organisation's own tenant, e.g. NHSmail)."""

    url: str
    emails_verified: bool = False


@dataclass(frozen=True)
class Policy:
    users: Mapping[str, Grant]  # lower-case email -> grant
    domains: Mapping[str, Grant]  # lower-case domain -> grant
    issuers: Mapping[str, Issuer]  # iss claim (exact) -> issuer
    tenants: frozenset[str] = frozenset()  # lower-case Entra tenant ids (tid claim)

    def trusts(self, issuer: object, tenant: object) -> bool:
        """Does a sign-in with these iss and tid claims come from a listed issuer or tenant?"""
        if isinstance(issuer, str) and issuer in self.issuers:
            return True
        return isinstance(tenant, str) and tenant.strip().lower() in self.tenants

    def emails_verified_by(self, issuer: object) -> bool:
        """True when the policy vouches for the addresses of this issuer."""
        entry = self.issuers.get(issuer) if isinstance(issuer, str) else None
        return entry is not None and entry.emails_verified

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


def _identity(section: object, source: str) -> tuple[dict[str, Issuer], frozenset[str]]:
    """The [identity] section: trusted issuers (with their settings) and Entra tenants."""
    where = f"{source}, [identity]"
    if not isinstance(section, dict):
        raise PolicyError(f"{source}: no [identity] section: name the trusted sign-in issuers "
                          "([identity.issuers.\"<iss>\"]) or Entra tenants ([identity] "
                          "tenants = [...])")
    unknown = sorted(set(section) - {"issuers", "tenants"})
    if unknown:
        raise PolicyError(f"{where}: {unknown[0]!r} is not a setting (allowed: issuers, "
                          "tenants)")
    raw_tenants = section.get("tenants", [])
    if not isinstance(raw_tenants, list) or not all(isinstance(t, str) for t in raw_tenants):
        raise PolicyError(f"{where}: tenants must be a list of Entra tenant ids")
    tenants = frozenset(t.strip().lower() for t in raw_tenants)
    for tenant in sorted(tenants):
        if not TENANT.fullmatch(tenant):
            raise PolicyError(f"{where}: tenants has {tenant!r}, which is not an Entra tenant "
                              "id (a GUID such as 00000000-0000-0000-0000-000000000000)")
    entries = section.get("issuers", {})
    if not isinstance(entries, dict):
        raise PolicyError(f"{where}: issuers must hold one table per issuer, "
                          "[identity.issuers.\"<iss>\"]")
    issuers: dict[str, Issuer] = {}
    for url, entry in entries.items():
        at = f"{source}, identity.issuers.\"{url}\""
        if not url.startswith("https://") or any(c in url for c in " <>{}"):
            raise PolicyError(f"{at}: not an issuer URL (the provider's iss claim, e.g. "
                              "https://login.microsoftonline.com/<tenant id>/v2.0)")
        if not isinstance(entry, dict) or set(entry) - {"emails_verified"}:
            raise PolicyError(f"{at}: the only setting is emails_verified = true or false")
        verified = entry.get("emails_verified", False)
        if not isinstance(verified, bool):
            raise PolicyError(f"{at}: emails_verified must be true or false")
        issuers[url] = Issuer(url, verified)
    if CONSUMER_TENANT in tenants or any(CONSUMER_TENANT in url for url in issuers):
        raise PolicyError(f"{where}: {CONSUMER_TENANT} is the tenant of personal Microsoft "
                          "accounts, which anyone can create")
    if not issuers and not tenants:
        raise PolicyError(f"{where}: no issuers or tenants: nobody's sign-in would count")
    return issuers, tenants


def parse_policy(data: Mapping[str, object], source: str = "the access policy") -> Policy:
    """Validate a parsed policy document (see the module docstring)."""
    unknown = sorted(set(data) - {"users", "domains", "identity"})
    if unknown:
        raise PolicyError(f"{source}: unknown section {unknown[0]!r} (expected [identity], "
                          "[users.\"...\"] and [domains.\"...\"])")
    issuers, tenants = _identity(data.get("identity"), source)
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
    return Policy(users, domains, issuers, tenants)


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
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise PolicyError(f"the access policy {path} nests values too deeply to read") from None
    return parse_policy(data, str(path))

"""Stable clinician pseudonyms for anything shared or exported.

Why: display names from SystmOne and EMIS exports (`Dr Brown`) identify staff. The practice's
own view keeps them; every file that leaves the dashboard or the CLI carries a code instead,
the same code for the same name (`Dr Brown` -> `GP-3F9A1C`) so lists can be followed over time.
A plain hash of a name could be reversed by hashing a list of names, so the code is an
HMAC-SHA256 keyed with a secret salt made once per installation (`secrets`), kept next to the
database (`data/pseudonym.salt`, readable by its owner only), or given in $CONTINUITY_PSEUDONYM_SALT
(several installations that must share codes share that value).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import duckdb
import polars as pl

from metrics.store import StoreError

SALT_ENV = "CONTINUITY_PSEUDONYM_SALT"
SALT_FILE = "pseudonym.salt"
MIN_SALT_CHARS = 16
CODE_HEX = 6  # 16.7 million codes; a clash inside one file is refused, never merged
# columns that carry a clinician's name or id -> the prefix of its code
ID_COLUMNS: dict[str, str] = {
    "usual_gp_id": "GP", "named_gp": "GP", "inferred_gp": "GP", "inferred_gp_id": "GP",
    "gp_id": "GP", "clinician_id": "CL", "usual_clinician_id": "CL",
}
NOTE = ("clinician names and ids replaced by stable pseudonyms (HMAC-SHA256 with this "
        "installation's secret salt)")


class PseudonymError(StoreError):
    """The salt cannot be read or made, or two names share a code (one plain-English line; a
    StoreError, so the CLI and the dashboard show it as one)."""


def salt_path(db_path: Path | None = None) -> Path:
    """Where the salt lives: beside the database (default: the dashboard's database)."""
    if db_path is None:
        from metrics.pipeline.build import db_path as default_db

        db_path = default_db()
    return Path(db_path).parent / SALT_FILE


def installation_salt(db_path: Path | None = None) -> bytes:
    """$CONTINUITY_PSEUDONYM_SALT, else the salt file beside the database, made on first use."""
    given = os.environ.get(SALT_ENV)
    if given is not None:
        if len(given.strip()) < MIN_SALT_CHARS:
            raise PseudonymError(f"{SALT_ENV} must be at least {MIN_SALT_CHARS} characters")
        return given.strip().encode("utf-8")
    path = salt_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made before (or by a concurrent session): read it
    except OSError as exc:
        raise PseudonymError(f"cannot create the pseudonym salt {path} ({exc.strerror})"
                             ) from None
    else:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    try:
        salt = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise PseudonymError(f"cannot read the pseudonym salt {path} ({exc.strerror})") from None
    if len(salt) < MIN_SALT_CHARS:
        raise PseudonymError(f"the pseudonym salt {path} is damaged: delete it to make a new "
                             "one (every code changes)")
    return salt.encode("ascii")


def connection_salt(con: duckdb.DuckDBPyConnection) -> bytes:
    """The salt of the installation whose database file `con` has open (its current database,
    or the one database file attached to an in-memory connection)."""
    path = None
    with contextlib.suppress(duckdb.Error):
        rows = con.cursor().execute(
            "SELECT path, database_name = current_database() AS current FROM duckdb_databases() "
            "WHERE path IS NOT NULL ORDER BY current DESC").fetchall()
        if rows and (rows[0][1] or len(rows) == 1):
            path = Path(rows[0][0])
    return installation_salt(path)


def pseudonym(name: str, salt: bytes, prefix: str = "GP") -> str:
    """`Dr Brown` -> `GP-3F9A1C`: the same name (spacing aside) and salt, the same code."""
    key = " ".join(name.split()).encode("utf-8")
    digest = hmac.new(salt, key, hashlib.sha256).hexdigest()[:CODE_HEX].upper()
    return f"{prefix}-{digest}"


def codes_for(frame: pl.DataFrame, salt: bytes) -> dict[str, str]:
    """Name -> code for every clinician named in `frame`'s clinician columns (ID_COLUMNS); a
    clash (two names, one code) is refused rather than merging two people."""
    codes: dict[str, str] = {}
    for column, prefix in ID_COLUMNS.items():
        if column in frame.columns:
            for name in frame[column].cast(pl.Utf8).drop_nulls().unique().to_list():
                codes.setdefault(name, pseudonym(name, salt, prefix))
    owners: dict[str, set[str]] = {}
    for name, code in codes.items():
        owners.setdefault(code[3:], set()).add(" ".join(name.split()))
    if any(len(v) > 1 for v in owners.values()):
        raise PseudonymError("two clinicians share a pseudonym under this installation's salt: "
                             f"delete {SALT_FILE} (or change ${SALT_ENV}) to draw a new one")
    return codes


def pseudonymise(frame: pl.DataFrame, salt: bytes,
                 codes: dict[str, str] | None = None) -> pl.DataFrame:
    """`frame` with codes instead of names: in the clinician columns (ID_COLUMNS), and in any
    other text cell that is exactly a name found there (a chart label such as `label`)."""
    codes = codes_for(frame, salt) if codes is None else codes
    if not codes:
        return frame
    out = []
    for column, dtype in frame.schema.items():
        if column in ID_COLUMNS:
            prefix = ID_COLUMNS[column]
            mine = {n: f"{prefix}-{c.split('-', 1)[1]}" for n, c in codes.items()}
            out.append(pl.col(column).cast(pl.Utf8).replace_strict(mine, default=None))
        elif dtype == pl.Utf8:
            out.append(pl.col(column).replace(codes))
    return frame.with_columns(out)


def scrub(text: str, codes: dict[str, str]) -> str:
    """A title, scope or file name with every clinician name replaced where it stands alone
    (not inside a longer code: `A` in `A81001` stays)."""
    for name in sorted(codes, key=len, reverse=True):
        text = re.sub(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])", codes[name], text)
    return text


def has_clinicians(frame: pl.DataFrame) -> bool:
    return any(c in frame.columns for c in ID_COLUMNS)

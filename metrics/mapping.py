"""Mapping presets: how a source's columns and values become the canonical extract.

Presets are data (`metrics/presets/<name>.toml`); a user mapping file has the same format and is
layered on the chosen preset. Format (every section optional):

    name = "my_practice"          # label shown in the ingest report
    description = "..."
    extends = "emis"              # preset this one builds on; a user file without it extends
                                  # the preset chosen with --preset

    [appointments.columns]        # field = source column name, or a list (first found wins).
    patient_id = ["NHS Number", "Patient ID"]   # Names match ignoring case, spaces, underscores,
    clinician_id = "Session Holder"             # hyphens and punctuation. A field's own name
                                                # always matches too.

    [appointments.defaults]       # value for every row when the file has no such column
    mode = "unknown"              # (listed in the ingest report)

    [appointments.values.status]  # source value = canonical value, matched ignoring case,
    "Sent In" = "attended"        # spaces, underscores and hyphens

    [appointments.contains.mode]  # when no exact value matches: the first fragment found
    "telephone" = "telephone"     # inside the value decides

    [appointments.options]
    derive_appointment_id = true  # the source has no appointment id: derive a stable one

Tables: `appointments`, `patients`, `practices` (fields = the canonical columns of
metrics.schema) and `usual_gp` (an optional file of each patient's usual GP: fields
`patient_id`, `usual_gp_id`). Extra fields a thin export may carry: appointments `age_years`
(becomes the patient's age band), `usual_gp_id`, `sex`; patients `age_years`.
A layer's column names are tried before its base's; its values and defaults override the base's;
its `contains` fragments are tried before the base's.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metrics.schema import AGE_BANDS, MODES, ROLES, SEXES, STATUSES, TABLES, column_names

PRESET_DIR = Path(__file__).parent / "presets"
BOOLEAN_VALUES = ("true", "false")

# Fields a table's mapping may name: canonical columns plus the auxiliary fields of thin exports.
FIELDS: dict[str, tuple[str, ...]] = {
    "appointments": (*column_names("appointments"), "age_years", "usual_gp_id", "sex"),
    "patients": (*column_names("patients"), "age_years"),
    "practices": tuple(column_names("practices")),
    "usual_gp": ("patient_id", "usual_gp_id"),
}
MAPPED_TABLES: tuple[str, ...] = tuple(FIELDS)

# Fields whose values come from a closed vocabulary.
VOCABULARIES: dict[tuple[str, str], tuple[str, ...]] = {
    ("appointments", "clinician_role"): ROLES,
    ("appointments", "status"): STATUSES,
    ("appointments", "mode"): MODES,
    ("appointments", "sex"): SEXES,
    ("patients", "age_band"): AGE_BANDS,
    ("patients", "sex"): SEXES,
    ("practices", "personal_lists"): BOOLEAN_VALUES,
}

# Identity fields: a default would make every row the same patient, practice or day.
NO_DEFAULT = {"appointment_id", "patient_id", "practice_code", "appointment_date",
              "practice_name"}
OPTIONS = {"derive_appointment_id"}


class MappingError(ValueError):
    """A preset or mapping file that cannot be used (one plain-English line)."""


def column_key(name: object) -> str:
    """Column name as matched: lower case, punctuation and spacing folded to single `_`.

    `Appointment Date`, `appointment_date`, ` APPOINTMENT DATE ` and `User Details' Full Name`
    -> `appointment_date`, ..., `user_details_full_name`."""
    text = str(name).replace("\ufeff", "").replace("'", "").replace("\u2019", "").lower()
    return re.sub(r"[^0-9a-z]+", "_", text).strip("_")


VALUE_FOLD = r"[\s_\-]+"


def value_key(value: str) -> str:
    """A value as matched: lower case, runs of spaces, underscores and hyphens as one space."""
    return re.sub(VALUE_FOLD, " ", value.strip().lower()).strip()


@dataclass(frozen=True)
class TableMapping:
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> column keys
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # field -> value key -> code
    contains: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    options: dict[str, bool] = field(default_factory=dict)

    def aliases(self, name: str) -> tuple[str, ...]:
        """Column keys tried for a field, in order; its own name last."""
        keys = self.columns.get(name, ())
        own = column_key(name)
        return keys if own in keys else (*keys, own)

    def value_map(self, table: str, name: str) -> dict[str, str]:
        """Exact value map for a vocabulary field: the vocabulary itself plus the mapping's."""
        vocab = VOCABULARIES[(table, name)]
        base = {value_key(v): v for v in vocab}
        return {**base, **self.values.get(name, {})}


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    tables: dict[str, TableMapping]
    layers: tuple[str, ...]  # preset chain, base first

    def table(self, name: str) -> TableMapping:
        return self.tables.get(name, TableMapping())


def available_presets() -> list[str]:
    """Names of the packaged presets (the example mapping file is not one)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml") if p.name != "example_mapping.toml")


def _preset_text(name: str) -> str:
    if name not in available_presets():
        raise MappingError(f"unknown preset {name!r}; choose from "
                           f"{', '.join(available_presets())}")
    return (PRESET_DIR / f"{name}.toml").read_text("utf-8")


def _parse(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{source} is not valid TOML ({exc}); see "
                           "metrics/presets/example_mapping.toml for the format") from None
    except RecursionError:  # tomllib parses nested arrays and tables by recursion
        raise MappingError(f"{source} nests arrays or tables too deeply to be a mapping file; "
                           "see metrics/presets/example_mapping.toml for the format") from None


def toml_string(text: str) -> str:
    """`text` as a TOML basic string. TOML takes any Unicode as is but no control characters,
    and only \\uXXXX/\\UXXXXXXXX escapes of whole code points (JSON's surrogate pairs for an
    emoji are invalid TOML). A lone surrogate cannot be written at all: it becomes U+FFFD."""
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _strings(value: object, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) for v in items):
        raise MappingError(f"{where} must be a column name or a list of column names")
    return tuple(items)


def _check_code(table: str, name: str, code: object, where: str) -> str:
    vocab = VOCABULARIES.get((table, name))
    if vocab is None:
        raise MappingError(f"{where}: {table}.{name} has no list of values to map onto")
    if isinstance(code, bool) and vocab == BOOLEAN_VALUES:
        code = "true" if code else "false"
    if code not in vocab:
        raise MappingError(f"{where}: {code!r} is not one of {', '.join(vocab)}")
    return str(code)


def _layer(raw: dict[str, Any], base: dict[str, TableMapping], source: str
           ) -> dict[str, TableMapping]:
    """Apply one parsed TOML layer on top of `base` (validating every name and value)."""
    known_top = {"name", "description", "extends", *MAPPED_TABLES}
    unknown = sorted(set(raw) - known_top)
    if unknown:
        raise MappingError(f"{source}: unknown section(s) {', '.join(unknown)}; known tables: "
                           f"{', '.join(MAPPED_TABLES)}")
    out = dict(base)
    for table in MAPPED_TABLES:
        spec = raw.get(table)
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise MappingError(f"{source}: [{table}] must be a table")
        bad = sorted(set(spec) - {"columns", "defaults", "values", "contains", "options"})
        if bad:
            raise MappingError(f"{source}: [{table}] has unknown key(s) {', '.join(bad)}; "
                               "use columns, defaults, values, contains, options")
        old = base.get(table, TableMapping())
        fields = FIELDS[table]

        def check_field(name: str, part: str, table: str = table,
                        fields: tuple[str, ...] = fields) -> None:
            if name not in fields:
                raise MappingError(f"{source}: [{table}.{part}] {name!r} is not a field of "
                                   f"{table}; fields: {', '.join(fields)}")

        columns = dict(old.columns)
        for name, names in spec.get("columns", {}).items():
            check_field(name, "columns")
            keys = tuple(column_key(n) for n in _strings(names, f"{source}: {table}.{name}"))
            columns[name] = (*keys, *(k for k in old.columns.get(name, ()) if k not in keys))
        defaults = dict(old.defaults)
        for name, value in spec.get("defaults", {}).items():
            check_field(name, "defaults")
            if name in NO_DEFAULT:
                raise MappingError(f"{source}: {table}.{name} cannot have a default")
            if (table, name) in VOCABULARIES:
                value = _check_code(table, name, value, f"{source}: default {table}.{name}")
            if not isinstance(value, str | int | bool):
                raise MappingError(f"{source}: default {table}.{name} must be a single value")
            defaults[name] = str(value)
        values = {k: dict(v) for k, v in old.values.items()}
        for name, pairs in spec.get("values", {}).items():
            check_field(name, "values")
            if not isinstance(pairs, dict):
                raise MappingError(f"{source}: [{table}.values.{name}] must be a table")
            target = values.setdefault(name, {})
            for raw_value, code in pairs.items():
                where = f"{source}: {table}.values.{name} {raw_value!r}"
                target[value_key(raw_value)] = _check_code(table, name, code, where)
        contains = dict(old.contains)
        for name, pairs in spec.get("contains", {}).items():
            check_field(name, "contains")
            if not isinstance(pairs, dict):
                raise MappingError(f"{source}: [{table}.contains.{name}] must be a table")
            new = tuple((value_key(fragment), _check_code(
                table, name, code, f"{source}: {table}.contains.{name} {fragment!r}"))
                for fragment, code in pairs.items())
            contains[name] = (*new, *old.contains.get(name, ()))
        options = dict(old.options)
        for name, value in spec.get("options", {}).items():
            if name not in OPTIONS or not isinstance(value, bool):
                raise MappingError(f"{source}: [{table}.options] {name!r} is not an option "
                                   f"(known: {', '.join(sorted(OPTIONS))} = true/false)")
            options[name] = value
        out[table] = TableMapping(columns, defaults, values, contains, options)
    return out


def _resolve(raw: dict[str, Any], source: str, seen: tuple[str, ...]
             ) -> tuple[dict[str, TableMapping], tuple[str, ...]]:
    parent = raw.get("extends")
    if parent is None:
        base: dict[str, TableMapping] = {}
        layers: tuple[str, ...] = ()
    else:
        if not isinstance(parent, str):
            raise MappingError(f"{source}: extends must be a preset name")
        if parent in seen:
            raise MappingError(f"{source}: presets extend each other in a loop ({parent})")
        base, layers = _resolve(_parse(_preset_text(parent), f"preset {parent}"),
                                f"preset {parent}", (*seen, parent))
        layers = (*layers, parent)
    return _layer(raw, base, source), layers


def load_mapping(preset: str = "canonical", mapping_file: Path | None = None) -> Mapping:
    """The preset, with the user's mapping file (if any) layered on top."""
    raw = _parse(_preset_text(preset), f"preset {preset}")
    tables, layers = _resolve(raw, f"preset {preset}", (preset,))
    layers = (*layers, preset)
    name = str(raw.get("name", preset))
    description = str(raw.get("description", ""))
    if mapping_file is not None:
        try:
            text = Path(mapping_file).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise MappingError(f"cannot read mapping file {mapping_file} "
                               f"({exc.__class__.__name__})") from None
        source = f"mapping file {Path(mapping_file).name}"
        user = _parse(text, source)
        if "extends" in user and user["extends"] != preset:
            tables, layers = _resolve(user, source, ())
        else:
            tables = _layer(user, tables, source)
        label = str(user.get("name", Path(mapping_file).stem))
        layers = (*layers, label)
        name = f"{name} + {label}"
        description = str(user.get("description", description))
    return Mapping(name=name, description=description, tables=tables, layers=layers)


def required_fields(table: str) -> tuple[str, ...]:
    """Canonical columns a file of `table` must provide (unless defaulted or derived)."""
    if table == "usual_gp":
        return ("patient_id", "usual_gp_id")
    return tuple(c.name for c in TABLES[table] if c.required)

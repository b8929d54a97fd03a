"""The My practice page's tables: peers, monthly SLICC and deciles, named-GP lists, patient
groups, appointment mix (SPC and rolling UPC in metrics.read.spc)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from metrics.access import Viewer
from metrics.disclosure import NO_CONTROL
from metrics.read.blocks import monthly_slicc
from metrics.read.filters import Selection
from metrics.read.labels import (
    BREAKDOWN_NAMES,
    CONTACTS_BANDS,
    FREQUENT_ATTENDERS,
    MODE_LABELS,
    QUINTILE_LABELS,
    ROLE_GROUP_ORDER,
    ROLE_GROUPS,
)
from metrics.read.source import (
    ResultSource,
    appointment_mix,
    directory,
    group_practices,
    group_rows,
    groups,
    practice_profile,
)
from metrics.read.spc import PracticeOptions, practice_monthly, practice_spc
from metrics.read.table import (
    Table,
    carry,
    disclose,
    index_columns,
    index_name,
    index_rows,
    index_table,
    own_text,
    stack,
    to_numeric,
    with_interval,
)
from metrics.schema import AGE_BANDS, GP_ROLES

PRACTICE_GROUPS = {  # page breakdown -> (level, column label)
    "age_band": ("practice_age_band", "age_band"),
    "contacts_band": ("practice_contacts_band", "contacts_band"),
    "patient_imd_quintile": ("practice_patient_imd_quintile", "patient_imd_quintile"),
}


def practice_peers(source: ResultSource, practice: str, key: str, viewer: Viewer) -> Table:
    """The practice against its PCN, its ICB and all practices in the data."""
    profile = practice_profile(source, practice) or {}
    own = viewer.rule_for(practice)
    shared = viewer.shared_rule
    units = [("practice", practice, f"Practice {practice}", own)]
    for level, code, label in (("pcn", profile.get("pcn_code"), "PCN"),
                               ("icb", profile.get("icb_code"), "ICB"),
                               ("all", "all", None)):
        if code is not None:
            name = "All practices" if label is None else f"{label} {code}"
            units.append((level, code, name, shared))
    # one query for the four rows (the page asks for them once per index it shows)
    rows = group_rows(source, [(level, code) for level, code, _, _ in units])
    parts = [index_rows(rows.filter((pl.col("level") == level) & (pl.col("group_code") == code)),
                        key, rule).with_columns(unit=pl.lit(name), level=pl.lit(level))
             for level, code, name, rule in units]
    frame = stack(parts)
    frame = frame.select("unit", "level", *[c for c in frame.columns
                                            if c not in ("unit", "level", "subgroup")])
    return Table(f"practice_{practice}_peers_{key}",
                 f"{practice} against its PCN, ICB and all practices: {index_name(key)}",
                 frame, f"practice {practice} with its PCN, ICB and all practices", shared,
                 own_rows=own_text(practice, own))


DECILE_PEERS = ("all", "icb")


def practice_deciles(source: ResultSource, practice: str, viewer: Viewer,
                     peers: str = "all") -> Table:
    """Monthly SLICC deciles of all practices, or of the practice's ICB (from controlled
    values), with the practice's own value and percentile (OpenPrescribing style)."""
    from metrics.stats import decile_bands, percentile_ranks

    if peers not in DECILE_PEERS:
        raise ValueError(f"unknown decile peers {peers!r}")
    shared = to_numeric(monthly_slicc(source, "practice", viewer.shared_rule).frame)
    icb = (practice_profile(source, practice) or {}).get("icb_code")
    where = "all practices"
    if peers == "icb" and icb is not None:
        members = directory(source).filter(pl.col("icb_code") == icb)["practice_code"]
        shared = shared.filter(pl.col("practice_code").is_in(members.to_list()))
        where = f"the practices of ICB {icb}"
    # deciles (and a rank) over fewer practices than a group figure needs are not shown
    few = pl.col("units") < viewer.shared_rule.min_practices
    bands = decile_bands(shared, "month", "slicc", unit_col="practice_code")
    bands = bands.with_columns(pl.when(few).then(None).otherwise(pl.col(c)).alias(c)
                               for c in bands.columns if c not in ("month", "units"))
    ranked = percentile_ranks(shared, "month", "practice_code", "slicc")
    pct = (ranked.filter(pl.col("practice_code") == practice)
           .join(bands.select("month", "units"), on="month", how="left")
           .select("month", pl.when(few).then(None).otherwise(pl.col("percentile"))
                   .alias("percentile")))
    monthly = practice_monthly(source, practice, viewer).frame
    own = monthly.select("month", *carry(monthly, {
        "slicc": "practice_slicc", "slicc_numerator": "practice_slicc_numerator",
        "slicc_denominator": "practice_slicc_denominator"}))
    frame = (bands.rename({"units": "practices"})
             .join(own, on="month", how="left").join(pct, on="month", how="left")
             .sort("month"))
    return Table(f"practice_{practice}_slicc_deciles{'_icb' if where != 'all practices' else ''}",
                 f"{practice}: monthly SLICC over the deciles of {where}", frame,
                 f"{where} x month (deciles) and the selected practice",
                 viewer.shared_rule, own_rows=own_text(practice, viewer.rule_for(practice)))


def gp_lists(source: ResultSource, practice: str, viewer: Viewer) -> Table | None:
    """Per named-GP list figures: only in the practice's own view (None otherwise)."""
    if not viewer.shows_gp_lists(practice):
        return None
    frame = groups(source, "gp_list", [practice])
    for key in ("slicc", "opr", "upc"):
        frame = with_interval(frame, key)
    frame = frame.select(
        pl.col("subgroup").alias("named_gp"), "list_patients",
        *index_columns("slicc"), *index_columns("opr"),
        "upc_mean", "upc_sd", "eligible_patients", "upc_lci", "upc_uci")
    return Table(f"practice_{practice}_gp_lists", f"{practice}: named-GP lists", frame,
                 f"practice {practice}, per named-GP list (internal use only)", NO_CONTROL,
                 own_rows=f"practice {practice}: exact numbers (the practice's own view)",
                 internal=True)


def practice_groups(source: ResultSource, practice: str, breakdown: str, key: str,
                    viewer: Viewer) -> Table:
    """The practice's patients by age band, contacts band or patient deprivation band."""
    level, column = PRACTICE_GROUPS[breakdown]
    rule = viewer.rule_for(practice)
    frame = index_table(source, level, key, rule, [practice])
    order = {"age_band": [*AGE_BANDS, "unknown"], "contacts_band": list(CONTACTS_BANDS),
             "patient_imd_quintile": [*QUINTILE_LABELS]}[breakdown]
    frame = frame.with_columns(
        pl.col("subgroup").replace_strict({v: i for i, v in enumerate(order)},
                                          default=len(order)).alias("__order"))
    frame = frame.sort("__order", "subgroup").drop("__order")
    label = pl.col("subgroup")
    if breakdown == "patient_imd_quintile":
        label = label.replace_strict(QUINTILE_LABELS, default=label)
    elif breakdown == "contacts_band":
        label = pl.when(label == FREQUENT_ATTENDERS).then(
            pl.lit("12+ (frequent attenders)")).otherwise(label)
    frame = frame.select(label.alias("label"), pl.col("subgroup").alias(column),
                         *index_columns(key))
    return Table(f"practice_{practice}_{breakdown}_{key}",
                 f"{practice}: {index_name(key)} by {BREAKDOWN_NAMES[breakdown]}", frame,
                 f"practice {practice} by {breakdown}", viewer.shared_rule,
                 own_rows=own_text(practice, rule))


def _mix_counts(source: ResultSource, practices_: Sequence[str] | None, by: str
                ) -> pl.DataFrame:
    mix = appointment_mix(source, practices_)
    category = (pl.col("clinician_role").replace_strict(ROLE_GROUPS, default="Admin or unknown")
                if by == "role" else
                pl.col("mode").replace_strict(MODE_LABELS, default="Unknown mode"))
    return (mix.group_by(category.alias("category"))
            .agg(pl.col("appointments").sum().alias("numerator")))


def practice_mix(source: ResultSource, practice: str, by: str, viewer: Viewer) -> Table:
    """Who patients saw (by role group) or how (by mode): shares of attended appointments
    for the practice, its PCN and all practices, with counts."""
    profile = practice_profile(source, practice) or {}
    members = directory(source)
    pcn = profile.get("pcn_code")
    behind = group_practices(source)
    units = [(f"Practice {practice}", [practice], viewer.rule_for(practice), None)]
    if pcn is not None:
        codes = members.filter(pl.col("pcn_code") == pcn)["practice_code"].to_list()
        units.append((f"PCN {pcn}", codes, viewer.shared_rule, ("pcn", pcn)))
    units.append(("All practices", None, viewer.shared_rule, ("all", "all")))
    order = ROLE_GROUP_ORDER if by == "role" else tuple(MODE_LABELS.values())
    parts = []
    for unit, codes, rule, group in units:
        counts = _mix_counts(source, codes, by)
        grid = pl.DataFrame({"category": list(order)}).join(counts, on="category", how="left")
        frame = grid.with_columns(pl.col("numerator").fill_null(0).cast(pl.Int64))
        frame = frame.with_columns(denominator=pl.col("numerator").sum())
        frame = frame.with_columns(
            share=pl.when(pl.col("denominator") > 0)
            .then(pl.col("numerator") / pl.col("denominator")))
        frame = frame.select(pl.lit(unit).alias("unit"), "category", "numerator",
                             "denominator", "share")
        if group is not None:
            found = behind.filter((pl.col("level") == group[0])
                                  & (pl.col("group_code") == group[1]))["practices"]
            frame = frame.with_columns(practices=pl.lit(found[0] if found.len() else 0))
        parts.append(disclose(frame, rule, partition=[]))  # the categories make the total
    what = "clinician role group" if by == "role" else "mode"
    return Table(f"practice_{practice}_mix_{by}",
                 f"{practice}: attended appointments by {what}", stack(parts),
                 f"practice {practice}, its PCN and all practices; attended appointments of "
                 f"every role and mode in the window, by {what}", viewer.shared_rule,
                 own_rows=own_text(practice, viewer.rule_for(practice)))


def practice_gp_share(source: ResultSource, practice: str, viewer: Viewer) -> Table:
    """Monthly share of attended appointments that were with a GP (any GP role)."""
    rule = viewer.rule_for(practice)
    mix = appointment_mix(source, [practice])
    gp = pl.col("clinician_role").is_in(list(GP_ROLES))
    # the database sums to DECIMAL(38,0), whose quotient keeps no decimals: integers here
    appointments = pl.col("appointments").cast(pl.Int64)
    frame = (mix.group_by(pl.col("month_start").alias("month"))
             .agg(appointments.filter(gp).sum().alias("numerator"),
                  appointments.sum().alias("denominator"))
             .sort("month"))
    frame = frame.with_columns(
        share=pl.when(pl.col("denominator") > 0)
        .then(pl.col("numerator") / pl.col("denominator")))
    return Table(f"practice_{practice}_gp_share_monthly",
                 f"{practice}: share of attended appointments with a GP, by month",
                 disclose(frame, rule), f"practice {practice} x month", viewer.shared_rule,
                 own_rows=own_text(practice, rule))


def practice_tables(source: ResultSource, sel: Selection, viewer: Viewer,
                    options: PracticeOptions | None = None) -> dict[str, Table]:
    """Everything the My practice page shows (empty when no practice is selected)."""
    options = options or PracticeOptions()
    practice = sel.practice
    if practice is None or practice_profile(source, practice) is None:
        return {}
    out = {
        "peers": practice_peers(source, practice, sel.index, viewer),
        "monthly": practice_monthly(source, practice, viewer),
        **practice_spc(source, practice, viewer, options),
        "deciles": practice_deciles(source, practice, viewer, options.peers),
        "window": practice_peers(source, practice, "upc", viewer),
        "window_coc": practice_peers(source, practice, "coc", viewer),
        "window_slicc": practice_peers(source, practice, "slicc", viewer),
    }
    lists = gp_lists(source, practice, viewer)
    if lists is not None:
        out["gp_lists"] = lists
    for breakdown in PRACTICE_GROUPS:
        out[breakdown] = practice_groups(source, practice, breakdown, sel.index, viewer)
    out["mix_role"] = practice_mix(source, practice, "role", viewer)
    out["mix_mode"] = practice_mix(source, practice, "mode", viewer)
    out["gp_share"] = practice_gp_share(source, practice, viewer)
    return out

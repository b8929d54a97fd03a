"""Index definitions as data: the Methods page, chart subtitles and column lookups share them.

Why data and not prose in a page: every figure names its definition, so the words shown next to
a chart, in an export header and on the Methods page must come from one place. Facts follow
docs/methods.md; every index here is "higher = more continuity".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["ratio", "mean"]


@dataclass(frozen=True)
class IndexDefinition:
    key: str  # column stem in the result tables
    name: str  # short label for menus and axes
    full_name: str
    kind: Kind  # "ratio": pooled numerator/denominator; "mean": mean of patient values
    formula: str
    reads: str  # what a value means, in plain words
    window: str  # over which period it is computed
    conventions: tuple[str, ...]
    caveats: tuple[str, ...]
    references: tuple[str, ...]
    direction: str = "higher is better: more continuity"
    n_label: str = "patients"

    @property
    def value_col(self) -> str:
        return self.key if self.kind == "ratio" else f"{self.key}_mean"

    @property
    def sd_col(self) -> str | None:
        return None if self.kind == "ratio" else f"{self.key}_sd"

    @property
    def numerator_col(self) -> str | None:
        return f"{self.key}_numerator" if self.kind == "ratio" else None

    @property
    def denominator_col(self) -> str:
        return f"{self.key}_denominator" if self.kind == "ratio" else "eligible_patients"

    @property
    def percent(self) -> bool:
        """Ratios are shown as percentages; means of patient values as decimals 0-1."""
        return self.kind == "ratio"

    @property
    def summary(self) -> str:
        """How a group's figure is formed (named on every chart)."""
        if self.kind == "ratio":
            return "pooled ratio over contacts"
        return "mean of patient values"

    @property
    def monthly(self) -> bool:
        return self.key in ("slicc", "opr")


PATIENT_CONVENTIONS = (
    "Counts attended contacts with a recorded clinician in the chosen staff group and modes.",
    "A patient needs at least the minimum number of contacts in the window (default 2); below "
    "it the index is undefined for that patient, never 0.",
    "Same-day contacts of one patient with one clinician count once (default).",
    "Groups (practice, PCN, ICB, band) are summarised as the mean over eligible patients, "
    "computed from patients, never as a mean of practice means.",
)
NAMED_GP_CONVENTIONS = (
    "Always GP contacts (gp, gp_registrar, locum_gp), whatever the staff-group filter.",
    "Pooled over contacts: numerator and denominator are shown with every value.",
    "Computed per calendar month and over the whole window.",
)

INDICES: dict[str, IndexDefinition] = {d.key: d for d in (
    IndexDefinition(
        "slicc", "SLICC", "St Leonard's Index of Continuity of Care", "ratio",
        "GP contacts with the patient's named GP / all GP contacts of patients who have a "
        "named GP",
        "the share of GP appointments in which patients with a named GP saw that GP",
        "each calendar month, and pooled over the window",
        (*NAMED_GP_CONVENTIONS,
         "Registrars and locums hold no list: their contacts stay in the denominator.",
         "Patients without a named GP are left out; the share of GP contacts left out is "
         "shown as named-GP coverage."),
        ("Meaningless where the named-GP field is administrative only (no personal lists).",
         "The Health and Social Care Committee (2022) called SLICC above 50% good and above "
         "75% excellent."),
        ("Sidaway-Lee K, Pereira Gray D, Evans P. BJGP 2019;69:e356.",
         "Health and Social Care Committee. The future of general practice. HC 113 (2022)."),
        n_label="GP contacts"),
    IndexDefinition(
        "opr", "OPR", "Own Patient Ratio", "ratio",
        "a list-holding GP's contacts with own-list patients / all that GP's contacts",
        "how much of a GP's work is with their own list",
        "each calendar month, and pooled over the window",
        (*NAMED_GP_CONVENTIONS,
         "Practice OPR = sum of numerators / sum of denominators over list-holding GPs."),
        ("Meaningless where the named-GP field is administrative only.",),
        ("Own Patient Ratio. BJGP 2023;73:279.",),
        n_label="GP contacts"),
    IndexDefinition(
        "upc", "UPC", "Usual Provider of Care", "mean",
        "max_j n_j / N (contacts with the most-seen clinician / all contacts)",
        "the share of a patient's contacts with the clinician they saw most",
        "the window (24 months by default)",
        PATIENT_CONVENTIONS,
        ("Biased upward at small N: with 5 equally-seen GPs the expected UPC is 0.60 at N=2 "
         "and 0.29 at N=40, so compare groups with similar contact counts.",
         "The usual provider may be a locum or registrar (SLICC exists for that reason)."),
        ("Breslau N, Reeb KG. Am J Public Health 1975;65:1062.",
         "Barker I, Steventon A, Deeny SR. BMJ 2017;356:j84.")),
    IndexDefinition(
        "upc_pooled", "UPC (pooled)", "Usual Provider of Care, pooled", "ratio",
        "sum over eligible patients of max_j n_j / sum of N",
        "the share of all contacts that were with each patient's usual provider",
        "the window (24 months by default)",
        PATIENT_CONVENTIONS,
        ("Weights frequent attenders more than the mean of patient values does: the two "
         "differ on the same data, so every chart names which one it shows.",),
        ("Breslau N, Reeb KG. Am J Public Health 1975;65:1062.",),
        n_label="contacts"),
    IndexDefinition(
        "coc", "COC", "Bice-Boxerman Continuity of Care Index", "mean",
        "(sum_j n_j^2 - N) / (N (N - 1))",
        "how concentrated a patient's contacts are on few clinicians, 0 (all different) to 1",
        "the window (24 months by default)",
        PATIENT_CONVENTIONS,
        ("Unbiased for the concentration at every N >= 2, unlike UPC and HHI.",),
        ("Bice TW, Boxerman SB. Med Care 1977;15:347.",)),
    IndexDefinition(
        "secon", "SECON", "Sequential Continuity", "mean",
        "consecutive pairs of contacts with the same clinician / (N - 1)",
        "how often the next contact is with the same clinician as the last",
        "the window (24 months by default)",
        (*PATIENT_CONVENTIONS,
         "Contacts are ordered by date, then time (missing last), then appointment id."),
        ("Alternating clinicians (ABAB) give 0 although UPC is 0.5.",),
        ("Steinwachs DM. Med Care 1979;17:551.",)),
    IndexDefinition(
        "mmci", "MMCI", "Modified Modified Continuity Index", "mean",
        "(1 - s/(N + 0.1)) / (1 - 1/(N + 0.1)), s = distinct clinicians",
        "few clinicians for many contacts",
        "the window (24 months by default)",
        PATIENT_CONVENTIONS,
        ("Depends only on the number of clinicians and contacts, not on how contacts are "
         "shared among them.",),
        ("Magill MK, Senf J. J Fam Pract 1987;24:165.",)),
    IndexDefinition(
        "hhi", "HHI", "Herfindahl-Hirschman Index", "mean",
        "sum_j (n_j / N)^2",
        "concentration of contacts, 1/s to 1",
        "the window (24 months by default)",
        PATIENT_CONVENTIONS,
        ("Biased upward at small N; not the 'Continuity of Care Index' (that is COC).",),
        ("Herfindahl OC. Concentration in the steel industry, 1950.",)),
    IndexDefinition(
        "kpc", "KPC", "Known Provider of Care", "mean",
        "contacts with a clinician the patient had seen in the 365 days before / all contacts",
        "how often patients see someone they already know",
        "the window, looking back up to 365 days before each contact",
        (*PATIENT_CONVENTIONS,
         "A same-day contact does not make the clinician known; the look-back may reach "
         "before the window."),
        ("Needs a year of history before the window for the first contacts.",),
        ("Known provider continuity, as used in NHS continuity studies.",)),
)}

INDEX_KEYS: tuple[str, ...] = tuple(INDICES)


def index(key: str) -> IndexDefinition:
    """The definition of `key`, or a clear error for an unknown one (keys come from URLs)."""
    try:
        return INDICES[key]
    except KeyError:
        raise ValueError(f"unknown index {key!r}; known: {', '.join(INDEX_KEYS)}") from None


GENERAL_NOTES: tuple[tuple[str, str], ...] = (
    ("What counts as a contact",
     "An attended appointment with a recorded clinician, in the chosen staff group (GP by "
     "default: gp, gp_registrar, locum_gp) and modes (face to face, telephone, video/online, "
     "home visit by default). DNAs, cancellations and bookings never count. Appointments "
     "with a blank clinician are left out of every index and counted on the Data page."),
    ("Which practice",
     "A patient belongs to the practice they are registered with in the patients extract; "
     "an appointment booked under another practice code counts for the registered practice."),
    ("Missing is not zero",
     "A practice with no data for a month (closed, dormant, not yet joined) shows a gap, "
     "never a zero; a group with no eligible patients shows a blank."),
    ("Intervals",
     "Proportions (SLICC, OPR, pooled UPC) carry Wilson 95% intervals; means of patient "
     "values carry t intervals from the patient-level spread."),
    ("Fair comparison",
     "Practices of different sizes are compared on funnel plots (Spiegelhalter 2005) with 95% "
     "and 99.8% limits widened for over-dispersion, not in league tables; monthly series on "
     "XmR charts (NHS England, Making Data Count); and OpenPrescribing-style decile charts."),
    ("Disclosure control",
     "Shared views and exports follow the NHS rule: counts 1-7 shown as *, other counts "
     "rounded to the nearest 5, zero stays 0, percentages from the rounded numbers, means "
     "over fewer than 8 patients not shown. A practice's own view shows exact numbers. "
     "Patient-level rows never leave the dashboard; per-GP figures appear only in the "
     "practice's own view."),
    ("Deprivation",
     "IMD 2019 quintile = ceil(decile / 2), Q1 = most deprived. The practice band comes from "
     "the practice's population-weighted decile; the patient band from the patient's LSOA."),
    ("Rolling UPC",
     "For each month, UPC over the 12 calendar months ending with it (mean over patients with "
     "at least the minimum contacts in those months, and pooled), drawn on an XmR chart. "
     "Successive points share 11 months, so the series moves slowly and its points are not "
     "independent: read a run or trend as change, a single point less strongly. Windows that "
     "reach back before a practice's first month of data are drawn hollow and left out of the "
     "limits: they read high."),
    ("SLICC against an inferred regular GP",
     "For exports that name no GP: the GP a patient saw most, at least twice, in the 12 "
     "calendar months before the month (a tie goes to the one seen most recently) stands in "
     "for the named GP. Always labelled 'inferred' and never mixed with SLICC against the "
     "named GP. It reads high in the first months of data, when little history exists, and "
     "can read higher than SLICC against a named GP, because the GP is chosen from the "
     "patient's own visits."),
    ("National context",
     "NHS England's Appointments in General Practice (GPAD) practice-level monthly files, "
     "imported as published: share of appointments with GPs against other practice staff, "
     "the mode mix and the DNA rate, for the practice, its PCN, its sub-ICB and every "
     "practice in the loaded files. Published counts, not this product's continuity figures."),
    ("Clinician names",
     "Clinician names stay in the practice's own view. Downloads carry stable pseudonyms "
     "(GP-3F9A1C): the same name always gives the same code on one installation, from a "
     "secret salt kept beside the database."),
)

"""Continuity-of-care dashboard: `streamlit run dashboard.py`.

The entry file owns what every page shares: who is looking (metrics.access), the database
(built from the synthetic sample on first run; path from $CONTINUITY_DB), and the global filters
in the sidebar, bound to the URL so a view can be shared as a link. Pages (views/*.py) read the
resulting context and stay thin.
"""

from __future__ import annotations

import streamlit as st

from metrics import access
from metrics.methods import INDEX_KEYS, INDICES
from metrics.params import STAFF_GROUP_LABELS, ParamsError
from metrics.pipeline import build
from metrics.read.filters import WINDOW_LENGTHS, Selection, window_params
from metrics.read.labels import MODE_LABELS
from metrics.schema import MODES, STAFF_GROUPS
from views import common

st.set_page_config(page_title="Continuity of care", page_icon=":material/diversity_3:",
                   layout="wide")

# Short labels: a bound widget writes its option's label into the URL.
STAFF_LABELS = {"gp": "GP", "clinical": "Clinical", "all": "All roles"}


def ensure_database() -> None:
    """First run: build the default sample database, with a progress bar."""
    path = build.db_path()
    if path.exists():
        return
    bar = st.progress(0.0, text="First run: building the synthetic sample database")
    with st.spinner("Building the sample database (a few seconds)..."):
        build.ensure_default_store(path, progress=lambda label, f: bar.progress(
            min(max(f, 0.0), 1.0), text=f"First run: {label}"))
    bar.empty()


def month_label(month: str) -> str:
    year, number = month.split("-")
    names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    return f"{names[int(number) - 1]} {year}"


def accept_bare_codes(choices: dict[str, list[str]]) -> None:
    """Let a link name a practice or PCN by its bare code (?practice=A81001): a bound widget
    only accepts its label ("A81001 Riverside Surgery"), so seed it once from the code."""
    for key, codes in choices.items():
        raw = st.query_params.get(key)
        if raw in codes and key not in st.session_state:
            st.session_state[key] = raw


def filters(viewer: access.Viewer) -> common.Context:
    """The sidebar's global filters (bound to the URL) as a page context."""
    db = build.db_path()
    version = common.db_version(db)
    if version is None:
        raise FileNotFoundError(f"no database at {db}")
    stored, months, directory = common.store_info(str(db), version)
    stored_end = stored.window_end.strftime("%Y-%m")
    viewer = viewer.scoped(directory)  # a reviewer's PCNs/ICBs as practice codes
    codes = viewer.visible_practices(directory["practice_code"].to_list())
    names = dict(zip(directory["practice_code"], directory["practice_name"], strict=True))
    pcns = {c: n for c, n in zip(directory["pcn_code"], directory["pcn_name"], strict=True)
            if viewer.pcn_in_scope(c)}
    accept_bare_codes({"practice": codes, "pcn": sorted(pcns)})
    with st.sidebar:
        st.header("Filters")
        end = st.selectbox("Window ends with", months[::-1],
                           index=months[::-1].index(stored_end) if stored_end in months else 0,
                           format_func=month_label, key="end", bind="query-params",
                           help="The last calendar month of the window (inclusive).")
        length = st.selectbox(
            "Window length (months)", WINDOW_LENGTHS,
            index=WINDOW_LENGTHS.index(24), key="months", bind="query-params",
            help="UPC, COC and the other patient indices use the whole window (24 months by "
                 "default); SLICC and OPR are shown per month and pooled over the window.")
        key = st.selectbox("Index", INDEX_KEYS, key="index", bind="query-params",
                           format_func=lambda k: INDICES[k].name,
                           help="The index drawn in comparisons: " + "; ".join(
                               f"{d.name} = {d.full_name}" for d in INDICES.values())
                           + ". Definitions on the Methods page.")
        staff = st.selectbox("Staff group", STAFF_GROUPS, key="staff", bind="query-params",
                             index=STAFF_GROUPS.index(stored.staff_group),
                             format_func=lambda s: STAFF_LABELS[s],
                             help="Whose contacts count for UPC, COC, SECON, MMCI, HHI and KPC: "
                                  + "; ".join(STAFF_GROUP_LABELS.values())
                                  + ". SLICC and OPR always count GP contacts.")
        modes = st.multiselect("Modes", MODES, default=list(stored.modes), key="modes",
                               bind="query-params", format_func=lambda m: MODE_LABELS[m])
        # A selectbox, not a bound number_input: Streamlit 1.67 crashes seeding an int
        # number_input from ?min=1e309 (int(inf) in its URL parsing); options ignore it.
        contacts = sorted({*range(2, 51), stored.min_contacts})
        minimum = st.selectbox("Minimum contacts per patient", contacts,
                               index=contacts.index(stored.min_contacts), key="min",
                               bind="query-params",
                               help="Patients with fewer contacts in the window have no "
                                    "UPC, COC, SECON, MMCI, HHI or KPC (never 0).")
        practice = st.selectbox("Practice", codes, index=None, key="practice",
                                bind="query-params", placeholder="Choose a practice",
                                format_func=lambda c: f"{c} {names.get(c) or ''}".strip())
        pcn = st.selectbox("PCN", sorted(pcns), index=None, key="pcn", bind="query-params",
                           placeholder="Choose a PCN (default: the practice's)",
                           format_func=lambda c: f"{c} {pcns.get(c) or ''}".strip())
        st.caption("The address bar keeps these filters: copy it to share this view.")
    if not modes:
        raise ParamsError("choose at least one mode in the sidebar")
    params = window_params(end, int(length), staff_group=staff, modes=modes,
                                   min_contacts=int(minimum),
                                   collapse_same_day=stored.collapse_same_day)
    sel = Selection(index=key, practice=practice, pcn=pcn)
    return common.Context(str(db), version, params, stored, sel, viewer)


def main() -> None:
    viewer = access.session_viewer()  # sign-in screen or no-access message stop here
    st.session_state[common.VIEWER_KEY] = viewer
    st.session_state[common.CONTEXT_KEY] = None
    st.session_state[common.ERROR_KEY] = None
    common.banner(viewer)
    try:
        ensure_database()
        st.session_state[common.CONTEXT_KEY] = filters(viewer)
    except common.data_errors() as exc:  # shown on every page but Data and Methods
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        st.session_state[common.ERROR_KEY] = first
    pages = [
        st.Page("views/overview.py", title="Overview", icon=":material/dashboard:",
                default=True),
        st.Page("views/practice.py", title="My practice", icon=":material/home_health:"),
        st.Page("views/networks.py", title="Networks", icon=":material/hub:"),
        st.Page("views/deprivation.py", title="Deprivation", icon=":material/stacked_bar_chart:"),
        st.Page("views/context.py", title="National context", icon=":material/public:"),
        st.Page("views/data.py", title="Data", icon=":material/upload_file:"),
        st.Page("views/export.py", title="Export", icon=":material/download:"),
        st.Page("views/methods.py", title="Methods", icon=":material/menu_book:"),
    ]
    st.navigation(pages).run()


main()

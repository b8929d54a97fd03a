"""Methods: each index's formula, conventions, caveats and references, in plain words."""

from __future__ import annotations

import streamlit as st

from metrics.methods import GENERAL_NOTES, INDICES
from views import common


def main() -> None:
    st.title("Methods")
    st.write("How every figure in this dashboard is made. Every index here reads the same "
             "way round: **higher means more continuity**.")
    ctx = st.session_state.get(common.CONTEXT_KEY)
    if ctx is not None:
        with st.expander("The filters in force now", expanded=False):
            for name, value in ctx.params.describe():
                st.markdown(f"- **{name}**: {value}")
    for d in INDICES.values():
        with st.expander(f"{d.name}: {d.full_name}", expanded=d.key == ctx.sel.index
                         if ctx is not None else False):
            st.markdown(f"**Formula**: `{d.formula}`")
            st.markdown(f"**Reads as**: {d.reads}. **Direction**: {d.direction}.")
            st.markdown(f"**Window**: {d.window}. **Group figure**: {d.summary}.")
            st.markdown("**Conventions**\n" + "\n".join(f"- {c}" for c in d.conventions))
            st.markdown("**Caveats**\n" + "\n".join(f"- {c}" for c in d.caveats))
            st.markdown("**References**\n" + "\n".join(f"- {r}" for r in d.references))
    st.subheader("Conventions that apply everywhere")
    for title, text in GENERAL_NOTES:
        st.markdown(f"**{title}.** {text}")


main()

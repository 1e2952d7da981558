"""rfnet dashboard: ``rfnet dashboard``, or ``streamlit run`` on this file.

Three pages (``app_pages/``): the spectrogram lab (make or upload a signal, see what the model sees and
what it says), model comparison (latency against accuracy from ``rfnet bench``'s results store) and
robustness (``rfnet robustness`` reports). The model picker in the sidebar serves every page; see
``rfnet.dashboard.shared`` for the environment variables that preset it and the data folders.
"""

import streamlit as st

from rfnet.dashboard.shared import pick_model

st.set_page_config(page_title="rfnet dashboard", page_icon=":material/cell_tower:", layout="wide")
# The pages show a user's mistake (a bad upload, a folder that is not a model) as one sentence; anything
# else that escapes is a bug, and its traceback (with this server's paths) goes to the log, not the page.
st.set_option("client.showErrorDetails", "none")
navigation = st.navigation([
    st.Page("app_pages/lab.py", title="Spectrogram lab", icon=":material/science:", default=True),
    st.Page("app_pages/comparison.py", title="Model comparison", icon=":material/speed:"),
    st.Page("app_pages/robustness.py", title="Robustness", icon=":material/shield:"),
])
pick_model()
navigation.run()

"""The Streamlit dashboard: ``rfnet dashboard`` runs ``streamlit run`` on :data:`APP` (see the README's
"The dashboard").

- ``app.py`` — the entry point: page setup, navigation (``st.navigation``) and the sidebar's model picker.
- ``app_pages/lab.py`` — spectrogram lab: make or upload a signal, see it as the model does, and its prediction.
- ``app_pages/comparison.py`` — latency against accuracy from ``rfnet bench``'s results store; measure now.
- ``app_pages/robustness.py`` — accuracy against PSR / JSR from ``rfnet robustness`` reports; self-checks.
- ``shared.py`` — what the pages share: model picker and cached loader, results tables.

The files are Streamlit scripts, run by ``streamlit run`` and ``st.navigation``, not imported (only
``shared`` is, by the pages). Library logic lives elsewhere in ``rfnet`` (``rfnet.dsp.scenario``,
``rfnet.data.iq_file``, ``rfnet.bench``, ``rfnet.robustness.report_reader``); the pages only lay it out.
Bare string literals in a page would be drawn by Streamlit's "magic", so pages document constants with
comments. Tests: ``tests/test_dashboard.py`` (AppTest, each page) and ``tests/test_dashboard_browser.py``
(a real browser, started through ``rfnet dashboard``).
"""

from pathlib import Path

APP = Path(__file__).with_name("app.py")
"""The script ``streamlit run`` starts; it adds the pages in ``app_pages/``."""

"""What the dashboard's pages share: the model picker, the cached model loader and results tables.

Settings a person (or a test) can give without clicking, each also a widget on the page:

- ``RFNET_MODEL`` (or the ``?model=`` query parameter): a saved model or finetune run folder to start
  with; otherwise the newest ``rfnet demo`` output in the working folder (``rfnet-demo-*``, or the folder
  ``RFNET_DEMO`` names) is offered.
- ``RFNET_RESULTS``: the results store of ``rfnet bench`` (see ``rfnet.bench.store.default_store_path``).
- ``RFNET_REPORTS``: ``rfnet robustness`` report folders (``os.pathsep``-separated); otherwise every
  folder under the working folder (two levels deep) that holds a ``report.json``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from rfnet.jobs.run_folder import BEST_DIR, OpenedModel, open_model
from rfnet.models.io import CONFIG_FILE, WEIGHTS_FILE

MODEL_ENV = "RFNET_MODEL"
DEMO_ENV = "RFNET_DEMO"
RESULTS_ENV = "RFNET_RESULTS"
REPORTS_ENV = "RFNET_REPORTS"
DEFAULT_RESULTS = "results.sqlite"
DEMO_GLOB = "rfnet-demo-*"

NO_MODEL = "No model"
OTHER_FOLDER = "Another folder…"
_CHOSEN = "rfnet_chosen_model"

GET_A_MODEL = (
    "No trained model is chosen, so the lab shows signals and spectrograms (rfnet's default front end) "
    "without a prediction. To get one: `rfnet demo` trains AlexNet and the RadioML ResNet on generated data "
    "(about 10 minutes on 2 CPU cores; `rfnet demo --quick` takes one) and this dashboard offers its "
    "folder when started from the same working folder; `rfnet finetune --data rml2016 --out runs/rml16` "
    "trains one on a synthetic preset. Then choose it here, or start the dashboard with "
    "`RFNET_MODEL=runs/rml16 rfnet dashboard`."
)


@dataclass(frozen=True)
class ChosenModel:
    """The classifier picked in the sidebar, the window length (samples) it classifies (its own) and a note
    where an old model's length was read from elsewhere."""

    saved: OpenedModel
    window: int
    window_note: str | None

    @property
    def name(self) -> str:
        return str(self.saved.folder)


def demo_models(root: Path) -> dict[str, Path]:
    """``rfnet demo`` runs under ``root`` (and in ``$RFNET_DEMO``), newest first: label -> run folder."""
    folders = sorted(root.glob(DEMO_GLOB), reverse=True)
    if os.environ.get(DEMO_ENV):
        folders.insert(0, Path(os.environ[DEMO_ENV]))
    found = {}
    for folder in folders:
        # one finetune run per model the demo trained (its --arch names), each with best/
        for run in sorted(folder.iterdir()) if folder.is_dir() else ():
            if (run / BEST_DIR).is_dir():
                found[f"{folder.name}: {run.name}"] = run
    return found


def _weights_stamp(folder: Path) -> float:
    """Modification time of the model's weights, so a retrained model in the same folder reloads."""
    for weights in (folder / WEIGHTS_FILE, folder / BEST_DIR / WEIGHTS_FILE):
        if weights.is_file():
            return weights.stat().st_mtime
    return 0.0


@st.cache_resource(show_spinner="Loading the model…", max_entries=4)
def _load(folder: str, stamp: float) -> ChosenModel:
    saved = open_model(folder)
    return ChosenModel(saved, saved.input_length(), "; ".join(saved.notes) or None)


def load_model(folder: str | Path) -> ChosenModel:
    """The classifier in ``folder`` (a saved model or a finetune run), cached across reruns and sessions.

    Raises ``FileNotFoundError`` / ``ValueError`` (from :func:`rfnet.jobs.run_folder.open_model`). A folder
    that holds no saved model gets the same ``FileNotFoundError`` as one that does not exist, so that a
    visitor naming folders (``?model=``) cannot tell which folders the server has.
    """
    folder = Path(folder).expanduser()
    if not any((where / CONFIG_FILE).is_file() for where in (folder, folder / BEST_DIR)):
        raise FileNotFoundError(f"{folder}: no such model folder")
    return _load(str(folder), _weights_stamp(folder))


def pick_model() -> ChosenModel | None:
    """The sidebar's model picker; pages read its choice with :func:`chosen_model`."""
    given = st.query_params.get("model") or os.environ.get(MODEL_ENV)
    choices = demo_models(Path.cwd())
    if given:
        choices = {given: Path(given), **choices}
    options = [NO_MODEL, *choices, OTHER_FOLDER]
    choice = st.sidebar.selectbox("Model", options, index=1 if choices else 0, key="model_choice",
                                  help="A saved model or finetune run folder (rfnet demo, rfnet finetune).")
    folder = choices.get(choice)
    if choice == OTHER_FOLDER:
        typed = st.sidebar.text_input("Model folder", key="model_folder",
                                      placeholder="runs/rml16  or  runs/rml16/best").strip()
        folder = Path(typed) if typed else None
    chosen = None
    if folder is None:
        st.sidebar.info(GET_A_MODEL)
    else:
        try:
            chosen = load_model(folder)
        except (FileNotFoundError, ValueError) as err:
            st.sidebar.error(f"Cannot use this model: {err}")
        else:
            saved = chosen.saved
            st.sidebar.caption(f"{saved.arch} · {len(saved.model.classes)} classes · "
                               f"{chosen.window}-sample windows")
    st.session_state[_CHOSEN] = chosen
    return chosen


def chosen_model() -> ChosenModel | None:
    """The model picked in the sidebar on this run (None: no model)."""
    return st.session_state.get(_CHOSEN)


def results_table(frame: pd.DataFrame, *, key: str, file_name: str) -> pd.DataFrame:
    """Show ``frame`` filtered by a text box (rows whose any cell contains the text, case-insensitive),
    sortable by clicking a column header, with a CSV download of the rows shown. Returns those rows."""
    text = st.text_input("Filter rows", key=f"{key}_filter", placeholder="e.g. alexnet, cpu, eager")
    shown = frame
    if text.strip():
        needle = text.strip().lower()
        hits = frame.astype(str).apply(lambda column: column.str.lower().str.contains(needle, regex=False))
        shown = frame[hits.any(axis=1)]
    st.dataframe(shown, hide_index=True, key=f"{key}_table")
    st.download_button("Download CSV", shown.to_csv(index=False).encode(), file_name=file_name,
                       mime="text/csv", key=f"{key}_csv")
    st.caption(f"{len(shown)} of {len(frame)} rows · click a column header to sort")
    return shown

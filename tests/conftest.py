import tempfile

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _temp_inside_basetemp(tmp_path_factory):
    """tempfile's folder, and ``TMPDIR`` for every subprocess (torchrun's ``torchelastic_*`` folders, Chromium,
    Streamlit), inside the session's basetemp, so that what they leave goes with it instead of piling up in
    /tmp (pyproject.toml's ``tmp_path_retention_*`` keep only a failed session's folders)."""
    folder = tmp_path_factory.mktemp("tempdir")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TMPDIR", str(folder))
        patch.setattr(tempfile, "tempdir", str(folder))
        yield folder


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global torch seed, so failures reproduce."""
    torch.manual_seed(0)


@pytest.fixture
def one_thread():
    """One intra-op thread for the test: tiny models run fastest so, and much faster on a busy machine.
    Use with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def shipped_models():
    """The names of rfnet's own registered models, without those tests register for themselves
    (``tests/test_engine.py`` registers a small IQ model; the registry is global to the session)."""
    from rfnet.models import list_models
    from rfnet.models.registry import _MODELS

    return [name for name in list_models() if _MODELS[name].__module__.startswith("rfnet.")]

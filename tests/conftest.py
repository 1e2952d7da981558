import pytest
import torch


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

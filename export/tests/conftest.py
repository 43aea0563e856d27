"""Fixtures shared by the export/ test files."""

import pytest
import torch

from relcon_export.io import resolve_data_dir


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny convolutions on a shared 2-core machine run several times faster on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def root():
    """The real recordings; tests that need them skip with this message when they are absent."""
    try:
        return resolve_data_dir(None)
    except FileNotFoundError:
        pytest.skip("real recordings (../shared/data or $RELCON_DATA_DIR) not available")

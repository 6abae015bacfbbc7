"""The seed workflow on the production launcher: uploads through the API and straight to Swift,
pl-dircopy on each with pfurl, and every byte back through the feed's files (one with httpie)."""

from pathlib import Path

import pytest

from tests.production.seed import make_seed_dir, run_seed

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def seed_dir(tmp_path_factory) -> Path:
    return make_seed_dir(tmp_path_factory.mktemp("seed"))


@pytest.fixture(scope="module")
def stack(production_stack_factory):
    return production_stack_factory()


def test_seed_on_production_stack(stack, seed_dir, tmp_path):
    run_seed(stack, seed_dir, tmp_path)

"""Shared fixtures: a standing clock and in-memory storage (see tests/fakes.py)."""

from __future__ import annotations

import pytest

from tests.fakes import FakeClock, FakeStore, FakeUnitOfWorkFactory


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def uow_factory(store: FakeStore) -> FakeUnitOfWorkFactory:
    return FakeUnitOfWorkFactory(store)

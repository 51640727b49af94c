"""Shared fixtures: the bundled configuration and a real moto server on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from appstorage.config import Config, load_config
from tests.faults import VirtualBotocoreTime

# botocore must never find real credentials or reach AWS from the tests.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(autouse=True, scope="session")
def _isolated_yaml_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The build's YAML cache goes to a temporary directory, never the user's home."""
    previous = os.environ.get("APPSTORAGE_CACHE_DIR")
    os.environ["APPSTORAGE_CACHE_DIR"] = str(tmp_path_factory.mktemp("appstorage-cache"))
    yield
    if previous is None:
        os.environ.pop("APPSTORAGE_CACHE_DIR", None)
    else:
        os.environ["APPSTORAGE_CACHE_DIR"] = previous


@pytest.fixture(autouse=True, scope="session")
def _isolated_emulator_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The record of ``appstorage-deploy local start`` goes to a temporary directory, so that
    ``--local`` in the tests never uses an emulator the developer left running."""
    from stacksets.localstate import STATE_DIR_ENV

    previous = os.environ.get(STATE_DIR_ENV)
    os.environ[STATE_DIR_ENV] = str(tmp_path_factory.mktemp("appstorage-state"))
    yield
    if previous is None:
        os.environ.pop(STATE_DIR_ENV, None)
    else:
        os.environ[STATE_DIR_ENV] = previous


@pytest.fixture
def botocore_time(monkeypatch: pytest.MonkeyPatch) -> VirtualBotocoreTime:
    """botocore's retry waits (backoff and the adaptive rate limiter) on a virtual clock: see
    :class:`tests.faults.VirtualBotocoreTime`. Request it before creating the clients."""
    return VirtualBotocoreTime().install(monkeypatch)


@pytest.fixture(scope="session")
def bundled_config() -> Config:
    return load_config()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's HTTP server on a free 127.0.0.1 port for the whole session; yields its URL.

    Tests that need isolation call :func:`reset_moto` (POST /moto-api/reset) first.
    """
    from moto.server import ThreadedMotoServer

    from stacksets.emulator import register_models

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    register_models()
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset_moto(endpoint: str) -> None:
    """Forget every resource moto holds (its documented reset API)."""
    import urllib.request

    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


@pytest.fixture
def moto_endpoint(moto_server: str) -> str:
    """A freshly reset moto server URL."""
    reset_moto(moto_server)
    return moto_server


@pytest.fixture
def deployed(moto_endpoint: str, tmp_path: Path) -> Path:
    """The bundled example's dev environment deployed to three accounts on a fresh moto
    server; yields the configuration file."""
    from tests.faults import run_cli
    from tests.helpers import seeded, write_config

    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    code, _, err = run_cli(
        moto_endpoint, "deploy", "--config", str(config), "--env", "dev", "--yes", outputs=tmp_path / "o.json"
    )
    assert code == 0, err
    return config

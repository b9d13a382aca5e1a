"""Test settings: hypothesis runs derandomized in CI (profile "ci"); `HYPOTHESIS_PROFILE=fuzz` runs longer locally."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("ci", derandomize=True, max_examples=150, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=200, deadline=None)
settings.register_profile("fuzz", max_examples=20000, deadline=None, suppress_health_check=list(HealthCheck))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


import pytest  # noqa: E402


@pytest.fixture
def fake_servers():
    """Start loopback FakeDashScope servers with the given options; all are stopped after the test."""
    from tests.fakescope.server import FakeDashScope

    started = []

    def start(**options):
        server = FakeDashScope(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()

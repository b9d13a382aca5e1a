"""A fake DashScope video-synthesis server on loopback for testing scenec's render client."""

from tests.fakescope.server import (
    ENDPOINTS,
    FAULTS,
    FakeDashScope,
    make_mp4,
    mp4_duration,
    parse_fault_spec,
)

__all__ = ["ENDPOINTS", "FAULTS", "FakeDashScope", "make_mp4", "mp4_duration", "parse_fault_spec"]

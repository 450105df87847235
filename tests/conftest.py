from hypothesis import settings

# CI machines are noisy: no per-example deadline (speed lives in benchmarks/, not in tests).
settings.register_profile("default", deadline=None)
settings.load_profile("default")

import pytest  # noqa: E402

from tools.policy_check import DEFAULT_PACK, AnalyzerPack  # noqa: E402


@pytest.fixture(scope="session")
def security_pack():
    """The security pack over its real Analyzer protocol, every rule mandatory: one process for
    the whole session (each rule's violating and compliant tests share it)."""
    with AnalyzerPack(DEFAULT_PACK) as p:
        p.analyzer_info()
        p.configure({"all": "mandatory"})
        yield p


@pytest.fixture(scope="session")
def readiness_pack():
    """The deploy-readiness pack over its real Analyzer protocol, one process for the session."""
    from tools.policy_check import READINESS_PACK
    with AnalyzerPack(READINESS_PACK) as p:
        p.analyzer_info()
        p.configure({})
        yield p

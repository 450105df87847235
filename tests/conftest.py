from hypothesis import settings

# CI machines are noisy: no per-example deadline (speed lives in benchmarks/, not in tests).
settings.register_profile("default", deadline=None)
settings.load_profile("default")

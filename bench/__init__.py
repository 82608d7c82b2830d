"""Benchmarks and their support in the app: bench mode (``TRACKER_BENCH_MODE=1``) registers
``bench.mode`` (a bare route, an ``X-Query-Count`` header, the ``flask bench`` commands)."""

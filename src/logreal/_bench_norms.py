"""Benchmark cases for the norms module (registered with :func:`logreal._bench.cases`)."""

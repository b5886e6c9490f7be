"""Benchmark cases for the products module (registered with :func:`logreal._bench.cases`)."""

"""Demo sections for the products module (registered with :func:`logreal._demo.section`)."""

"""Demo sections for the norms module (registered with :func:`logreal._demo.section`)."""

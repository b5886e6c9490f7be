"""``python -m logreal demo`` is ``logreal demo``."""

from .cli import main

raise SystemExit(main())

"""`python -m compiler` runs the scenec command line."""

from .cli import main

raise SystemExit(main())

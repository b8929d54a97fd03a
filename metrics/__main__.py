"""`python -m metrics`: the command-line interface (see metrics/cli/)."""

from metrics.cli import main

raise SystemExit(main())

"""`python -m fluentai ...` is the same as the `fluentai` command."""

from fluentai.cli import main

raise SystemExit(main())

"""`python -m fluentai ...` is the same as the `fluentai` command."""

from fluentai.launch import main

raise SystemExit(main())

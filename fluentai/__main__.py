"""`python -m fluentai ...` is the same as the `fluentai` command."""

import sys

try:
    from fluentai.launch import main

    status = main()
except KeyboardInterrupt:  # Ctrl-C before fluentai.interrupts took SIGINT over (bin/fluentai)
    sys.stderr.write("interrupted\n")
    status = 130
sys.exit(status)

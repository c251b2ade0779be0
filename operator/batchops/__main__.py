"""`python -m batchops` is the `batchops` command."""

import sys

from batchops.cli import main

sys.exit(main())

"""``python -m purenet ...`` runs the same command line as ``purenet ...``."""

import sys

from .cli import main

sys.exit(main())

"""``python -m transinv``: the command line, for environments without the console script
(the workflow's conda environment runs the package from the checkout)."""

import sys

from transinv.cli import main

sys.exit(main())

"""``python -m transinv`` is the ``transinv`` command."""

import sys

from transinv.cli import main

sys.exit(main())

"""``python -m rfnet``: the ``rfnet`` command, for an environment without its console script on PATH."""

import sys

from rfnet.cli import main

sys.exit(main())

import sys

from rfnet.cli import main

sys.exit(main())

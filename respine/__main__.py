import sys

from respine.cli import main

sys.exit(main())

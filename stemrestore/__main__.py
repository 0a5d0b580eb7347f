import sys

from stemrestore.cli import main

sys.exit(main())

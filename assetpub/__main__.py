import sys

from assetpub.cli import main

sys.exit(main())

import sys

from assetpub.cli.app import main

sys.exit(main())

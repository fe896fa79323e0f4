"""``python -m fanpin_rules`` runs the ``fanpin`` command."""

import sys

from fanpin_rules.cli import main

sys.exit(main())

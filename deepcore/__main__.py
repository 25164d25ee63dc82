"""``python -m deepcore ...``: the same as the ``deepcore`` command."""
import sys

from .cli import main

sys.exit(main())

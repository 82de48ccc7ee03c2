"""`python -m tests.fuzz campaign` (make fuzz) and `python -m tests.fuzz run TARGET -- FLAGS`."""

import sys

from tests.fuzz.runner import main

sys.exit(main())

"""``python -m agency_pulse.sandbox --port N --date YYYY-MM-DD --seed N ...``"""

import sys

from agency_pulse.sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())

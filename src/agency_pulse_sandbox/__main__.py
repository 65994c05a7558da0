"""``python -m agency_pulse_sandbox --port N --date YYYY-MM-DD --seed N ...``"""

import sys

from agency_pulse_sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())

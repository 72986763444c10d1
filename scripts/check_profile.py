"""Check that a profile's backends can load here, without loading any model.

    python scripts/check_profile.py --profile gpu        # exit 0 ready, 1 not; lists what is missing
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.settings import Settings  # noqa: E402
from models.profile_check import format_problems, validate_profile  # noqa: E402

EXIT_NOT_READY = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/check_profile.py",
                                     description="Check that a profile's backends can load here.")
    parser.add_argument("--profile", default=None,
                        help="profile name or YAML path (default: $UGEN_PROFILE or cpu)")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    profile = args.profile or settings.profile
    problems = validate_profile(profile, settings)
    print(format_problems(problems, profile=profile))
    return EXIT_NOT_READY if problems else 0


if __name__ == "__main__":
    sys.exit(main())

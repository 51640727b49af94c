"""The deployer: ``python scripts/deploy.py plan|deploy|status|outputs [options]``."""

from stacksets.cli import main

raise SystemExit(main())

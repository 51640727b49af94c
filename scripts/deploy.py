"""The deployer: ``python scripts/deploy.py plan|deploy|status|outputs|drift|dr-check|destroy [options]``."""

from stacksets.cli import main

raise SystemExit(main())

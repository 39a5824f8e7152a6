"""`python -m originguard` runs the CLI (the supervisor starts its children this way)."""

from originguard.cli import main

main()

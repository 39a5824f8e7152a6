"""`originguard up`: every component of a config as supervised child processes."""

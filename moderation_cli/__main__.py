"""`python -m moderation_cli`: the `moderation` command."""

from moderation_cli import main

main()

"""One module per `qa` subcommand: `add_parser(subparsers)` registers it with `run(args)`."""

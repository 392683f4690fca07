"""One module per `qa` subcommand: `add_parser(subparsers)` registers it with `run(args)`;
`checks` holds `qa doctor`'s checks. The top of the graph: may import everything; only
`qa.cli` imports it.
"""

"""One module per ``drpnet`` subcommand, each with ``add_args(parser)`` and ``main(args)``."""

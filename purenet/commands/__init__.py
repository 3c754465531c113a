"""One module per subcommand of ``purenet``: ``add_arguments(parser)`` and ``run(args) -> int``."""

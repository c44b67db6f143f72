"""The HTTP edge: the app factory, pages, API, metrics and the CLI. Thin; delegates."""

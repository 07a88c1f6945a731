"""`python -m bot` and the `haven` command."""

import gc


def haven() -> None:
    """Run the `haven` command.

    Haven's processes build large object graphs that live as long as they do (SQLAlchemy and
    pydantic schemas, the compiled rules, the model's session). With Python's default
    first-generation threshold (700 allocations) the collector walked them again and again
    while they were built: a fifth of a worker's start-up. Young garbage is collected every
    10,000 allocations instead; set before the imports, as most of the start-up is imports.
    """
    gc.set_threshold(10_000, 10, 10)
    from bot.cli import main

    main()


if __name__ == "__main__":
    haven()

"""``python -m sizecheck``: the same as the ``sizecheck`` command."""

from sizecheck.cli import main

if __name__ == "__main__":
    main()

"""``python -m facetwitch``: the same as the ``facetwitch`` console script."""

from .cli import main

if __name__ == "__main__":
    main()

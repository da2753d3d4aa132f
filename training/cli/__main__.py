"""``python -m training.cli``: the same as the ``jenjang`` script."""

from training.cli import main

if __name__ == "__main__":
    main()

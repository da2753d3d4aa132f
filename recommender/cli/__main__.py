"""``python -m recommender.cli``: the same as the ``jenjang`` script."""

from recommender.cli.root import main

if __name__ == "__main__":
    main()

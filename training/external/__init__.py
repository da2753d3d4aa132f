"""Runs of the Jenjang pipeline on public data sets it was not designed around."""

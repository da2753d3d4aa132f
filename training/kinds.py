"""The kinds of ranking model Jenjang trains, one name each, used everywhere.

The CLI (``jenjang train programs|careers``), the fairness reports, the batch (whose
``positions`` output is made by the ``careers`` model) and MLflow (registered model and
experiment names) all spell a kind through :class:`Kind`.
"""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """A kind of ranking model; the value is the CLI and fairness name."""

    PROGRAMS = "programs"
    CAREERS = "careers"

    @property
    def model_name(self) -> str:
        """Registered MLflow model name, e.g. ``jenjang-programs`` (the names the service
        serves, :data:`recommender.bundles.MODEL_NAMES`; a test keeps them equal)."""
        return f"jenjang-{self.value}"

    @property
    def experiment(self) -> str:
        """MLflow experiment name (the same as the model name)."""
        return f"jenjang-{self.value}"

    @property
    def train_command(self) -> str:
        """The command that trains this kind, quoted in "nothing registered" messages."""
        return f"jenjang train {self.value}"


KINDS: tuple[Kind, ...] = tuple(Kind)


def parse_kind(*, name: str) -> Kind:
    """The :class:`Kind` named ``name`` (``"programs"`` or ``"careers"``).

    Raises ValueError naming the known kinds when ``name`` is none of them.
    """
    try:
        return Kind(name)
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise ValueError(f"unknown model kind {name!r} (known: {known})") from None

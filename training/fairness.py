"""Exposure of career-advancing items in the top 10, by group, with bootstrap intervals.

Definitions (docs/fairness.md has the reasoning and the demo figures):

* **Population.** The test year(s) of the global temporal split, on 1 January, with the
  candidates and features the service uses. Programmes: every query of the test-year frame
  (the people the evaluation samples, at most ``max_people_per_year``), whether or not they took
  anything — exposure needs no label. Careers: every person active on that date (a seeded
  sample of at most ``fairness_max_people``), ranked over every other position as
  ``next_positions`` does. People at the top of the ladder (tier level unknown or the highest of
  any position in the catalogue) are counted, not measured: nothing can be advancing for them.
* **Career-advancing programme** for a person: it closes part of a gap to the competency
  standard of the person's likely next position — for some competency c,
  ``next(c) > seen(c)`` and ``target_level(programme, c) > seen(c)``. ``next`` is the standard
  of the catalogue's likely next position (``Catalog.next_position``: the next tier of the same
  JF, else the current post) with the managerial and socio-cultural competencies raised to the
  managerial level of the next tier (``catalog.NEXT_TIER``, ``domain.MANAGERIAL_LEVEL_BY_TIER``)
  when the catalogue has no next post. ``seen`` is the gap convention of the programme
  features: the last assessed level, else the current post's required level minus 0.5 (1.0
  where the post does not require c).
* **Career-advancing position**: a tier level (``recommender.domain.TIER_LEVEL``, one ladder
  for structural and functional tiers) above the person's current one (``tier_step > 0``).
* **Raw exposure** of a person: position-discounted share of advancing items in the top ``k``
  = 10 of the ranker's list (ties keep the candidate order, as served)::

      raw = sum_{r <= min(k, n)} adv_r / log2(r + 1)  /  sum_{r <= min(k, n)} 1 / log2(r + 1)

  0 = nothing advancing in the top 10, 1 = only advancing items; rank 1 weighs 1, rank 10 0.29.
  Logged and shown, not gated: it mixes the ranker with the ladder (a grade-IV person has few
  higher posts and few programmes left that raise them, whatever the ranker does).
* **Attainable exposure** (the judged measure): the DCG of the *attainable* advancing items in
  the top ``k`` divided by the ideal DCG, the DCG had the person's ``m`` attainable candidates
  been ranked first (:func:`ideal_dcg`: the first ``min(k, m)`` weights)::

      attainable = sum_{r <= k} att_r / log2(r + 1)  /  sum_{r <= min(k, m)} 1 / log2(r + 1)

  1 = as many attainable items on top as possible, 0 = none in the top 10 although some exist;
  not defined for ``m`` = 0: such people are counted per group (``none_attainable``), not
  measured. Attainable programme = advancing programme (every candidate can be taken);
  attainable position = ``tier_step > 0`` and eligible now by the career pattern (the
  ``eligible`` column of the candidate frame, the verdict the service serves).
* **Groups**: sex (``P`` women, ``L`` men), region (``java`` / ``outside_java`` by the unit's
  province), age band on 1 January (``under_30``, ``30-39``, ``40-49``, ``50_plus``) and grade
  group (golongan ``I``-``IV``). Per group: mean exposure, size and a percentile-bootstrap
  95 % interval (people resampled with replacement within the group, ``n_boot`` times, seeded).
  A group with fewer than ``min_group`` (100) people is **flagged** and not judged. Per
  attribute: **ratio** = lowest / highest mean exposure over the judged groups (NaN when fewer
  than two are judged), with a bootstrap interval from the same resamples; computed for each
  measure separately.

Logged on the model's MLflow run (:func:`log`) as metrics ``fairness.<kind>.<attribute>.ratio``
(``.ratio_ci_low``, ``.ratio_ci_high``, ``.judged_groups``), per group
``fairness.<kind>.<attribute>.<group>.{exposure,ci_low,ci_high,n,small,none_attainable}``
(attainable exposure; ``fairness.<kind>.none_attainable`` marks such a run), the same raw
figures under ``fairness.<kind>.raw.<attribute>...``, and the tables ``fairness/<kind>.json``
and ``fairness/<kind>.csv`` (aggregates only: no person, no NIP). :func:`gate` is the promotion
rule on the attainable metrics.

The measure lives in :mod:`training.exposure` (below the pipelines, which use it):
:mod:`~training.exposure.measures` (per-person exposure, groups, what advances),
:mod:`~training.exposure.figures` (group, attribute and report figures),
:mod:`~training.exposure.report` (a version's report, and in words),
:mod:`~training.exposure.rule` (the promotion rule), :mod:`~training.exposure.store` (the report
on an MLflow run). This module is the one place to reach all of it. Recomputing a registered
version's report needs its pipeline: :func:`training.pipeline.recompute_fairness`.
"""

from __future__ import annotations

from recommender.programs.advancing import MANAGERIAL_TYPES
from training.exposure.figures import (
    ATTAINABLE,
    GATE_VERSION,
    RAW,
    AttributeFigure,
    GroupFigure,
    Report,
    adjusted_figure,
    adjusted_means,
    attribute_figure,
    bootstrap_means,
)
from training.exposure.legal import LEGAL_COLUMNS, legal_people, pair_verdicts
from training.exposure.measures import (
    AGE_BANDS,
    ATTRIBUTES,
    LEVEL,
    MIN_GROUP,
    MIN_RATIO,
    PERSON,
    K,
    advancing_programmes,
    age_band,
    both_exposures,
    careers_exposure,
    discount,
    exposure,
    exposures,
    ideal_dcg,
    labelled,
    next_standard,
    person_groups,
    programmes_scored,
    served,
    top_of_ladder,
)
from training.exposure.report import (
    ADJUSTED,
    careers_report,
    covariates,
    measure,
    programs_report,
    ratio_line,
    rows,
)
from training.exposure.rule import (
    Check,
    Logged,
    exposure_rule,
    from_metrics,
    gate,
    has_attainable,
    has_gate_figures,
    is_failure,
)
from training.exposure.store import (
    SHAPING,
    artifact_path,
    load,
    log,
)

__all__ = [
    "ADJUSTED",
    "AGE_BANDS",
    "ATTAINABLE",
    "ATTRIBUTES",
    "GATE_VERSION",
    "LEGAL_COLUMNS",
    "LEVEL",
    "MANAGERIAL_TYPES",
    "MIN_GROUP",
    "MIN_RATIO",
    "PERSON",
    "RAW",
    "SHAPING",
    "AttributeFigure",
    "Check",
    "GroupFigure",
    "K",
    "Logged",
    "Report",
    "adjusted_figure",
    "adjusted_means",
    "advancing_programmes",
    "age_band",
    "artifact_path",
    "attribute_figure",
    "bootstrap_means",
    "both_exposures",
    "careers_exposure",
    "careers_report",
    "covariates",
    "discount",
    "exposure",
    "exposure_rule",
    "exposures",
    "from_metrics",
    "gate",
    "has_attainable",
    "has_gate_figures",
    "ideal_dcg",
    "is_failure",
    "labelled",
    "legal_people",
    "load",
    "log",
    "measure",
    "next_standard",
    "pair_verdicts",
    "person_groups",
    "programmes_scored",
    "programs_report",
    "ratio_line",
    "rows",
    "served",
    "top_of_ladder",
]

"""Eligibility of (person, target position) pairs under a career pattern, with reasons in words.

Vectorised over pairs so the ranker can use it as a feature for every candidate, and explained
for one pair at a time for people. ``pairs`` is a DataFrame with one row per (person, target):

person side  ``p_tier``, ``p_jf`` (JF code or None), ``p_grade_rank`` (index in
             ``normalize.GRADES``), ``p_education_rank`` (index in ``EDUCATION_LEVELS``),
             ``p_years_in_position``, ``p_age``, ``p_rating_1`` .. ``p_rating_3`` (rating score
             0-4 of the last, second-last, third-last year; NaN when missing),
             ``p_training_mask`` (bitmask of completed training modalities, :func:`modality_mask`),
             ``p_max_grade_rank`` (top grade of the current post), optionally
             ``p_credit_points`` (JF credit points in the current tier; read only by rules with
             ``credit_points``, missing = unknown)
target side  ``t_tier``, ``t_jf``, ``t_min_grade_rank``, ``t_min_education_rank``,
             ``t_required_mask`` (bitmask of the post's required training), ``t_formasi``,
             ``t_holders``

A rule *applies* to a pair when the tiers match (and ``tier_step`` / ``same_jf`` hold); its
conditions then pass or fail. A pair is eligible when some applying rule has no failed
condition; otherwise the applying rule with the fewest failures explains why not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommender import domain
from recommender.careers.rules import RATINGS, Rule, RuleSet
from recommender.data.normalize import EDUCATION_LEVELS, GRADES, MODALITIES

MODALITY_BIT = {m: i for i, m in enumerate(MODALITIES)}
KIND_CODE = {"none": 0, "vertical": 1, "horizontal": 2, "diagonal": 3}
CONDITIONS = (
    "education",
    "years_in_post",
    "rating",
    "grade",
    "age",
    "training",
    "vacancy",
    "credit_points",
)
#: JF credit points (angka kredit, domain.md 2.4, PermenPANRB 1/2023): points to the next tier
#: and the yearly coefficient by tier; a year's points are the coefficient x the rating's share.
AK_TO_NEXT_TIER = {
    "ahli_pertama": 100.0,
    "ahli_muda": 200.0,
    "ahli_madya": 450.0,
    "pemula": 15.0,
    "terampil": 60.0,
    "mahir": 100.0,
}
AK_PER_YEAR = {
    "ahli_pertama": 12.5,
    "ahli_muda": 25.0,
    "ahli_madya": 37.5,
    "ahli_utama": 50.0,
    "pemula": 3.75,
    "terampil": 5.0,
    "mahir": 12.5,
    "penyelia": 25.0,
}
#: share of the yearly coefficient by rating score 0-4 (Sangat Kurang .. Sangat Baik)
AK_RATING_SHARE = (0.25, 0.5, 0.75, 1.0, 1.5)
_D4, _S1 = EDUCATION_LEVELS.index("D4"), EDUCATION_LEVELS.index("S1")


def modality_mask(codes: Iterable[str]) -> int:
    """Bitmask of training modality codes (unknown codes are ignored)."""
    mask = 0
    for code in codes:
        if code in MODALITY_BIT:
            mask |= 1 << MODALITY_BIT[code]
    return mask


def _edu(rank: pd.Series | np.ndarray) -> np.ndarray:
    """Education rank with D4 counted as S1 (the law reads 'S1/D4')."""
    r = np.asarray(rank, dtype=float)
    return np.where(r == _D4, _S1, r)


def _need_education(rule: Rule, pairs: pd.DataFrame) -> np.ndarray | None:
    want = rule.conditions.min_education
    if want is None:
        return None
    if want == "position":
        return _edu(pairs["t_min_education_rank"])
    return np.full(len(pairs), float(_edu(np.array([EDUCATION_LEVELS.index(want)]))[0]))


def _need_grade(rule: Rule, pairs: pd.DataFrame) -> np.ndarray | None:
    c = rule.conditions
    if c.grade == "position":
        need: np.ndarray = np.maximum(pairs["t_min_grade_rank"].to_numpy(float) - c.grade_slack, 0)
        return need
    if c.grade == "top_of_current":
        top: np.ndarray = pairs["p_max_grade_rank"].to_numpy(float)
        return top
    return None


def _required_mask(rule: Rule, pairs: pd.DataFrame) -> np.ndarray:
    req = rule.conditions.required_training
    if req == "position":
        return pairs["t_required_mask"].to_numpy(np.int64)
    return np.full(len(pairs), modality_mask(req), dtype=np.int64)


def _ratings_ok(rule: Rule, pairs: pd.DataFrame) -> np.ndarray:
    c = rule.conditions
    if c.min_rating is None:
        return np.ones(len(pairs), bool)
    need = RATINGS.index(c.min_rating)
    ok = np.ones(len(pairs), bool)
    for k in range(1, c.rating_years + 1):
        ok &= pairs[f"p_rating_{k}"].to_numpy(float) >= need  # NaN (no rating) fails
    return ok


def _below(value: pd.Series | np.ndarray, need: np.ndarray | float) -> np.ndarray:
    """True where ``value`` is under ``need`` or unknown (NaN): a missing fact never passes."""
    v = np.asarray(value, dtype=float)
    out: np.ndarray = ~(v >= need)
    return out


def credit_points_needed(pairs: pd.DataFrame) -> np.ndarray:
    """Credit points each pair's person needs to leave their tier (NaN outside a JF tier with a
    next tier), float (n_pairs,)."""
    return pairs["p_tier"].map(AK_TO_NEXT_TIER).to_numpy(float)


def credit_points(pairs: pd.DataFrame) -> np.ndarray:
    """The person's credit points in the current tier (``p_credit_points``; NaN when the pairs
    do not carry them: an unknown fact fails), float (n_pairs,)."""
    if "p_credit_points" not in pairs:
        return np.full(len(pairs), np.nan)
    return pairs["p_credit_points"].to_numpy(float)


def _failures(rule: Rule, pairs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per condition, True where the pair fails it (shape (n_pairs,)); unknown values fail."""
    c = rule.conditions
    n = len(pairs)
    none = np.zeros(n, bool)
    need_edu = _need_education(rule, pairs)
    need_grade = _need_grade(rule, pairs)
    age = pairs["p_age"].to_numpy(float)
    missing = _required_mask(rule, pairs) & ~pairs["p_training_mask"].to_numpy(np.int64)
    open_posts = pairs["t_formasi"].to_numpy(float) - pairs["t_holders"].to_numpy(float)
    return {
        "education": _below(_edu(pairs["p_education_rank"]), need_edu)
        if need_edu is not None
        else none,
        "years_in_post": _below(pairs["p_years_in_position"], c.min_years_in_post),
        "rating": ~_ratings_ok(rule, pairs),
        "grade": _below(pairs["p_grade_rank"], need_grade) if need_grade is not None else none,
        "age": ~(age <= c.max_age) if c.max_age is not None else none,
        "training": missing != 0,
        "vacancy": ~(open_posts > 0) if c.vacancy else none,
        "credit_points": _below(credit_points(pairs), credit_points_needed(pairs))
        if c.credit_points
        else none,
    }


def rule_failures(rule: Rule, pairs: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per condition of :data:`CONDITIONS`, bool (n_pairs,): True where the pair fails it under
    ``rule`` (whether or not the rule applies; see :func:`applies`). Raises KeyError naming a
    missing column of ``pairs``."""
    return _failures(rule, pairs)


def grade_needed(rule: Rule, pairs: pd.DataFrame) -> np.ndarray | None:
    """Grade rank each pair needs under ``rule`` (float (n_pairs,)), None when the rule does not
    check the grade."""
    return _need_grade(rule, pairs)


def applies(rule: Rule, pairs: pd.DataFrame) -> np.ndarray:
    """Pairs whose move this rule covers (tiers, tier step, same JF), bool (n_pairs,)."""
    c = rule.conditions
    out = (
        pairs["p_tier"].isin(rule.from_tiers).to_numpy()
        & pairs["t_tier"].isin(rule.to_tiers).to_numpy()
    )
    if c.tier_step is not None:
        step = pairs["t_tier"].map(domain.TIER_LEVEL) - pairs["p_tier"].map(domain.TIER_LEVEL)
        out &= step.to_numpy() == c.tier_step
    if c.same_jf is not None:
        same = pairs["t_jf"].notna() & (
            pairs["p_jf"].astype(object) == pairs["t_jf"].astype(object)
        )
        out &= same.to_numpy() == c.same_jf
    return out


@dataclass(frozen=True)
class PairChecks:
    """Vectorised result, one entry per pair: ``rule`` index into ``RuleSet.rules`` (-1 when no
    rule covers the move), ``eligible``, ``n_failed`` (of the explaining rule; -1 without rule),
    ``kind`` code (:data:`KIND_CODE`), ``failed`` per condition of the explaining rule."""

    rule: np.ndarray
    eligible: np.ndarray
    n_failed: np.ndarray
    kind: np.ndarray
    failed: dict[str, np.ndarray]


def check_pairs(rules: RuleSet, pairs: pd.DataFrame) -> PairChecks:
    """Evaluate every rule on every pair and keep, per pair, the best applying rule.

    Raises KeyError naming a missing column of ``pairs``.
    """
    n = len(pairs)
    best = np.full(n, -1)
    best_failed = np.full(n, 99)
    failed = {name: np.zeros(n, bool) for name in CONDITIONS}
    for i, rule in enumerate(rules.rules):
        mask = applies(rule, pairs)
        if not mask.any():
            continue
        fails = _failures(rule, pairs)
        count = np.sum([fails[name] for name in CONDITIONS], axis=0)
        better = mask & (count < best_failed)
        best[better] = i
        best_failed[better] = count[better]
        for name in CONDITIONS:
            failed[name][better] = fails[name][better]
    kinds = np.array([KIND_CODE[r.kind] for r in rules.rules] + [0])
    return PairChecks(
        rule=best,
        eligible=(best >= 0) & (best_failed == 0),
        n_failed=np.where(best >= 0, best_failed, -1),
        kind=kinds[best],
        failed=failed,
    )


# ------------------------------------------------------------------ explanations in words
#: Sentences per language ("en", "id"); ``{...}`` are filled by :func:`_messages`.
TEXTS: dict[str, dict[str, str]] = {
    "education": {
        "en": "needs education {need} or higher, has {has}",
        "id": "perlu pendidikan minimal {need}, saat ini {has}",
    },
    "years_in_post": {
        "en": "needs {need} years in the current post, has {has}",
        "id": "perlu {need} tahun pada jabatan saat ini, baru {has}",
    },
    "rating": {
        "en": "needs rating {need} or better in each of the last {years} year(s), has {has}",
        "id": "perlu predikat kinerja minimal {need} pada {years} tahun terakhir, tercatat {has}",
    },
    "grade": {
        "en": "needs grade {need}{what}, has {has}",
        "id": "perlu golongan {need}{what}, saat ini {has}",
    },
    "top_of_tier": {"en": " (top of the current tier)", "id": " (puncak jenjang saat ini)"},
    "age": {
        "en": "must be at most {need} years old, is {has}",
        "id": "usia paling tinggi {need} tahun, saat ini {has}",
    },
    "training": {
        "en": "needs {need} completed, not on record",
        "id": "perlu menyelesaikan {need}, belum tercatat",
    },
    "vacancy": {
        "en": "no vacancy: {need} post(s) planned, {has} filled",
        "id": "tidak ada formasi kosong: {need} formasi, {has} terisi",
    },
    "credit_points": {
        "en": "needs {need} credit points to the next tier, has {has}",
        "id": "perlu {need} angka kredit untuk naik jenjang, baru {has}",
    },
    "no_rule": {
        "en": "no career-pattern rule leads from {need} to {has}",
        "id": "tidak ada aturan pola karier dari {need} ke {has}",
    },
    "after": {
        "en": "{need} within a year of appointment",
        "id": "{need} paling lambat setahun setelah pengangkatan",
    },
    "unknown": {"en": "none on record", "id": "tidak tercatat"},
    "none": {"en": "none", "id": "tidak ada"},
}


def text(key: str, lang: str, **values: object) -> str:
    """One sentence of :data:`TEXTS` in ``lang`` ("id" or "en"; anything else is English)."""
    return TEXTS[key]["id" if lang == "id" else "en"].format(**values)


def _grade(rank: float, lang: str) -> str:
    ok = not pd.isna(rank) and 0 <= rank < len(GRADES)
    return GRADES[int(rank)] if ok else text("unknown", lang)


def _education(rank: float, lang: str) -> str:
    return EDUCATION_LEVELS[int(rank)] if not pd.isna(rank) else text("unknown", lang)


def _number(value: float, lang: str, fmt: str = ".1f") -> str:
    return text("unknown", lang) if pd.isna(value) else format(value, fmt)


def _rating_text(row: pd.Series, years: int, year: int, lang: str) -> str:
    parts = []
    for k in range(1, years + 1):
        score = row[f"p_rating_{k}"]
        parts.append(f"{year - k}: {text('none', lang) if pd.isna(score) else RATINGS[int(score)]}")
    return ", ".join(parts)


def _credit_text(one: pd.DataFrame, lang: str) -> str:
    return text(
        "credit_points",
        lang,
        need=_number(credit_points_needed(one)[0], lang, ".0f"),
        has=_number(credit_points(one)[0], lang, ".1f"),
    )


def _messages(rule: Rule, row: pd.Series, year: int, lang: str) -> dict[str, Callable[[], str]]:
    c = rule.conditions
    one = pd.DataFrame([row])

    def education() -> str:
        need = _need_education(rule, one)
        assert need is not None
        return text(
            "education",
            lang,
            need=EDUCATION_LEVELS[int(need[0])],
            has=_education(row["p_education_rank"], lang),
        )

    def grade() -> str:
        need = _need_grade(rule, one)
        assert need is not None
        what = text("top_of_tier", lang) if c.grade == "top_of_current" else ""
        return text(
            "grade",
            lang,
            need=_grade(need[0], lang),
            what=what,
            has=_grade(row["p_grade_rank"], lang),
        )

    def training() -> str:
        missing = int(_required_mask(rule, one)[0]) & ~int(row["p_training_mask"])
        names = [MODALITIES[m].label_id for m, b in MODALITY_BIT.items() if missing >> b & 1]
        return text("training", lang, need=", ".join(names))

    return {
        "education": education,
        "years_in_post": lambda: text(
            "years_in_post",
            lang,
            need=f"{c.min_years_in_post:g}",
            has=_number(row["p_years_in_position"], lang),
        ),
        "rating": lambda: text(
            "rating",
            lang,
            need=c.min_rating,
            years=c.rating_years,
            has=_rating_text(row, c.rating_years, year, lang),
        ),
        "grade": grade,
        "age": lambda: text("age", lang, need=c.max_age, has=_number(row["p_age"], lang, ".0f")),
        "training": training,
        "credit_points": lambda: _credit_text(one, lang),
        "vacancy": lambda: text(
            "vacancy",
            lang,
            need=_number(row["t_formasi"], lang, ".0f"),
            has=_number(row["t_holders"], lang, ".0f"),
        ),
    }


@dataclass(frozen=True)
class Verdict:
    """Eligibility of one pair in words: the rule used (None when no rule covers the move),
    its kind and legal basis, failed conditions as sentences, and training due after
    appointment."""

    eligible: bool
    rule_id: str | None
    kind: str | None
    legal_basis: str | None
    failed: tuple[str, ...]
    after_appointment: tuple[str, ...]


def explain(
    rules: RuleSet, pair: pd.Series, year: int, lang: str = "en", rule_index: int | None = None
) -> Verdict:
    """Explain one pair (a row with the columns of the module docstring) in ``lang`` ("en" or
    "id"); ``year`` is the year of the decision (ratings are named by year). ``rule_index``:
    the explaining rule when :func:`check_pairs` already chose it (-1: none), which saves
    evaluating every rule again. Never raises for a valid row."""
    one = pd.DataFrame([pair])
    if rule_index is None:
        checks = check_pairs(rules, one)
        i = int(checks.rule[0])
        failed_flags = {name: bool(checks.failed[name][0]) for name in CONDITIONS}
    else:
        i = int(rule_index)
        fails = _failures(rules.rules[i], one) if i >= 0 else {}
        failed_flags = {name: bool(fails[name][0]) for name in fails}
    if i < 0:
        why = text("no_rule", lang, need=pair["p_tier"], has=pair["t_tier"])
        return Verdict(False, None, None, None, (why,), ())
    rule = rules.rules[i]
    texts = _messages(rule, pair, year, lang)
    failed = tuple(texts[name]() for name in CONDITIONS if failed_flags[name])
    after = tuple(
        text("after", lang, need=MODALITIES[m].label_id)
        for m in rule.conditions.training_after_appointment
    )
    return Verdict(not failed, rule.id, rule.kind, rule.legal_basis, failed, after)

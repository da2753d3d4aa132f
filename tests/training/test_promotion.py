"""training/promotion.py: the decision names the failed checks of the quality gate (as
training.registry.gate words them) and of the exposure rule (its ``failed:`` reasons)."""

from __future__ import annotations

from training.promotion import failed_checks


def test_failed_checks_pick_the_failures_of_both_checks() -> None:
    quality = (
        False,
        [
            "parity by sex 0.950 >= 0.8",
            "parity by grade is 0.700 < 0.8",
            "NDCG@10 0.2000 does not beat the champion's 0.2100 by the margin 0.0",
        ],
    )
    exposure = (
        False,
        [
            "passed: attainable exposure ratio by sex 0.990 [0.95, 1.0]: ...",
            "failed: attainable exposure ratio by grade 0.600 [0.55, 0.65]: ...",
            "note: the champion has no exposure figures of this rule",
        ],
    )
    assert failed_checks(quality=quality, exposure=exposure) == [
        "parity by grade is 0.700 < 0.8",
        "NDCG@10 0.2000 does not beat the champion's 0.2100 by the margin 0.0",
        "failed: attainable exposure ratio by grade 0.600 [0.55, 0.65]: ...",
    ]


def test_a_passing_decision_has_no_failed_check_and_an_unworded_failure_keeps_all() -> None:
    ok = (True, ["no champion yet; NDCG@10 0.2000", "parity by sex 0.950 >= 0.8"])
    fair = (True, ["passed: attainable exposure ratio by sex 0.990 [0.95, 1.0]: ..."])
    assert failed_checks(quality=ok, exposure=fair) == []
    odd = (False, ["something else went wrong"])
    assert failed_checks(quality=odd, exposure=fair) == ["something else went wrong"]

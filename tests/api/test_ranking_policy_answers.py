"""The service's answers follow the ranking policy (issue 18, part 1): a person whose ranker
order leaves out what they can reach still gets min(m, 3) of it in the top 10."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommender import bundles
from recommender.careers.features import FEATURES, candidate_frame
from recommender.careers.policy import SPREAD, attainable_advancing
from recommender.programs.advancing import advancing_for
from recommender.programs.features import candidate_arrays
from recommender.ranking_policy import guarantee_met
from recommender.service import Service


def test_positions_answer_keeps_min_m_3_attainable_advancing_posts(service: Service) -> None:
    ctx = service.world.careers
    ranker = service.models.rankers[bundles.CAREERS]
    frame = candidate_frame(ctx, np.arange(min(120, len(ctx.snap.people))), detail=True)
    flagged = attainable_advancing(rules=ctx.rules, frame=frame, at=ctx.snap.at)
    score = ranker.predict(frame[list(FEATURES)])
    people = pd.unique(frame["employee_id"])
    short = people[
        ~guarantee_met(group=frame["employee_id"].to_numpy(), score=score, flagged=flagged)
    ]
    assert len(short) > 0  # the ranker alone leaves someone without the guarantee
    for who in short[:3]:
        own = frame["employee_id"].to_numpy() == who
        reach = set(frame.loc[own & flagged, "position_id"])
        items = service.positions(str(who), k=10)["items"]
        shown = [item for item in items if item["position_id"] in reach]
        assert len(shown) == min(len(reach), 3), who
        assert all(item["eligible_within_horizon"] for item in shown)
        # spread (recommender.careers.policy.SPREAD): the j-th of them at rank SPREAD * j or better
        ranks = [item["rank"] for item in shown]
        assert all(r <= SPREAD * j for j, r in enumerate(sorted(ranks), start=1)), (who, ranks)
        # the score served is the ranker's own; the order is the policy's
        own_score = dict(zip(frame.loc[own, "position_id"], score[own], strict=True))
        for item in items:
            assert item["score"] == pytest.approx(own_score[item["position_id"]], abs=1e-6)


def test_programmes_answer_keeps_min_m_3_advancing_programmes(service: Service) -> None:
    w = service.world
    checked = 0
    for who in w.snap.people.index[:15]:
        row = w.snap.row(str(who))
        cands = candidate_arrays(w.snap, w.cat, w.usage, w.year, np.array([row]), 150)
        flagged = advancing_for(snap=w.snap, cat=w.cat, row=row, program_ids=cands.program_ids)
        m = int(flagged.sum())
        reach = set(cands.program_ids[flagged])
        items = service.programs(str(who), k=10)["items"]
        assert sum(item["program_id"] in reach for item in items) >= min(m, 3), who
        checked += m > 0
    assert checked > 0

"""The ``ease_score`` feature: EASE weights of the usage are collab's on the co-enrolment Gram."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommender.programs import features
from recommender.programs.collab import ease_from_gram


def test_usage_ease_is_collab_on_the_co_enrolment_gram() -> None:
    taken = np.array([[1, 1, 0], [1, 0, 1], [1, 1, 1], [0, 1, 0]], dtype=bool)
    co = features.co_enrolment(taken)
    empty = pd.DataFrame(np.zeros((1, 3), dtype=np.int64), columns=pd.Index(["a", "b", "c"]))
    counts = features.UsageCounts(
        {k: empty for k in (*features.USAGE_KEYS, features.RECENT_UNIT)},
        {k: pd.Series([1], dtype=np.int64) for k in features.USAGE_KEYS},
        co,
    )
    usage = features.usage_from(np.array([3.0, 3.0, 2.0]), counts, pd.Index(["a", "b", "c"]))
    expected = ease_from_gram(gram=taken.T.astype(float) @ taken, l2=features.EASE_L2)
    np.testing.assert_allclose(usage.ease, expected, rtol=1e-6)
    assert "ease_score" in features.PAIR_FEATURES
    assert usage.ease[0, 1] != 0.0

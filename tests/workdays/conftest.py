from __future__ import annotations

import pytest

from apps.workdays.services import holiday_seed


@pytest.fixture
def seeded_calendar(db) -> None:
    """2026 as the State Council published it (chinesecalendar), 2027 computed (holidays, provisional)."""
    holiday_seed(years=[2026, 2027])

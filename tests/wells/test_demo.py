import io

import pytest

from apps.core.demo import seed_core
from apps.wells.demo import seed_operations


@pytest.mark.django_db
def test_seed_operations_is_complete_and_idempotent():
    from apps.drilling.models import DrillingReport, TimeLogRow
    from apps.intervention.models import ToolComponent, Toolstring
    from apps.production.models import AllocationRun, DailyWellProduction, WellTest
    from apps.wells.models import Completion, Site, SurveyStation, Trajectory, Well, Wellbore

    def counts():
        return {m.__name__: m.objects.count() for m in (Well, Wellbore, Completion, Trajectory, SurveyStation,
                                                         DrillingReport, TimeLogRow, DailyWellProduction, WellTest,
                                                         AllocationRun, ToolComponent, Toolstring)}

    out = io.StringIO()
    seed_core(out)
    seed_operations(out)
    first = counts()
    assert first["Well"] == 6 and first["DrillingReport"] == 5 and first["Toolstring"] == 2
    assert first["DailyWellProduction"] == 4 * 30 and first["AllocationRun"] == 2
    assert Site.objects.filter(wells__isnull=False).distinct().count() == 2
    assert Trajectory.objects.filter(definitive=True).count() == Wellbore.objects.filter(name="OH").count()
    assert set(DrillingReport.objects.values_list("status", flat=True)) == {"approved", "submitted", "draft"}
    seed_operations(out)
    assert counts() == first
    run = AllocationRun.objects.order_by("period_start").first()  # the monthly run reconciles exactly
    assert sum(line.allocated_volume or 0 for line in run.lines.all()) == run.measured_volume

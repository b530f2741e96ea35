import datetime as dt

from apps.drilling.models import DrillingReport, IadcActivity, TimeLogRow
from tests.wells import factories as f


def report(world, in_scope=True, day=None, **kw):
    wb = kw.pop("wellbore", None) or f.wellbore(world, in_scope)
    return DrillingReport.objects.create(wellbore=wb, report_date=day or dt.date(2026, 4, 1), **kw)


def code(c="2", sub=""):
    return IadcActivity.objects.get(code=c, subcode=sub)


def rows(rep, spans, activity=None):
    activity = activity or code()
    out = []
    for start, end in spans:
        out.append(TimeLogRow.objects.create(report=rep, start_time=dt.time.fromisoformat(start),
                                             end_time=dt.time.fromisoformat(end), activity=activity,
                                             description="Drill 8-1/2in hole"))
    return out


FULL_DAY = [("06:00", "12:00"), ("12:00", "18:30"), ("18:30", "00:00"), ("00:00", "06:00")]

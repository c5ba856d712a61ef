"""Reminders of the reporting cycle: 14 and 3 days before a member's deadline, and the
escalation of an overdue return to its chief executive, each once per deadline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import audit, clock
from portal.extensions import db
from portal.partners.models import Partnership
from portal.returns import services
from portal.returns.models import AWAITING_SIGN_OFF, SIGNED_OFF, ReportingYear, ReturnReminder
from portal.tenancy import partnership_scope, tenant_scope

# --- reminders ------------------------------------------------------------------------------

REMINDER_DAYS = {"14 days": 14, "3 days": 3}
ESCALATION = "overdue"
# Years whose deadline passed longer ago than this are left alone by the reminders.
REMINDER_HORIZON_DAYS = 90


@dataclass
class ReminderReport:
    sent: list[tuple[str, str, str]] = field(default_factory=list)  # partnership, member, kind


def _due_kind(days_left: int) -> str | None:
    if days_left < 0:
        return ESCALATION
    if days_left <= REMINDER_DAYS["3 days"]:
        return "3 days"
    if days_left <= REMINDER_DAYS["14 days"]:
        return "14 days"
    return None


def send_reminders(today: date | None = None) -> ReminderReport:
    """Remind every member whose return is not signed off, 14 and 3 days before its
    deadline, and escalate an overdue return to its chief executive: each once per
    deadline (an extension earns fresh ones), whenever and however often this runs."""
    today = today or clock.utcnow().date()
    report = ReminderReport()
    partnerships = db.session.scalars(select(Partnership).order_by(Partnership.id)).all()
    for partnership in partnerships:
        # Reporting years are partnership-owned: each partnership's under its own scope.
        with partnership_scope(partnership):
            _remind_partnership(today, report)
    return report


def _remind_partnership(today: date, report: ReminderReport) -> None:
    """The reminders due for the reporting years of the partnership in scope."""
    years = db.session.scalars(select(ReportingYear).order_by(ReportingYear.id)).all()
    for year in years:
        extensions = services.extensions_for(year)
        for member in sorted(year.partnership.members, key=lambda t: t.id):
            extension = extensions.get(member.id)
            deadline = extension.deadline if extension else year.deadline
            if (today - deadline).days > REMINDER_HORIZON_DAYS:
                continue
            kind = _due_kind((deadline - today).days)
            if kind is None:
                continue
            with tenant_scope(member):
                ret = services.return_for(year)
                state, _ = services.return_state(ret)
                if state == SIGNED_OFF or db.session.scalar(
                    select(ReturnReminder.id).where(
                        ReturnReminder.reporting_year_id == year.id,
                        ReturnReminder.kind == kind,
                        ReturnReminder.deadline == deadline,
                    )
                ):
                    continue
                db.session.add(
                    ReturnReminder(
                        reporting_year_id=year.id,
                        kind=kind,
                        deadline=deadline,
                        sent_at=clock.utcnow(),
                    )
                )
                audit.record(
                    "return.reminded",
                    ret,
                    object_type="AnnualReturn",
                    detail={"year": year.label, "kind": kind, "deadline": deadline.isoformat()},
                )
                try:
                    db.session.commit()
                except IntegrityError:
                    # Sent at the same moment by another run: once is enough.
                    db.session.rollback()
                    continue
            if kind == ESCALATION:
                mail_kind = "overdue"
            elif state == AWAITING_SIGN_OFF:
                mail_kind = "reminder to sign off"
            else:
                mail_kind = "reminder"
            services.queue_mail(member, year, mail_kind, detail=kind)
            report.sent.append((year.partnership.slug, member.slug, kind))

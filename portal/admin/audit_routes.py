"""The audit trail pages: an organisation's own, for its administrators, and the portal's
(events with no organisation: sign-ins, lockouts, portal administration), for portal
administrators. Each shows names rather than ids and can be narrowed by person, action
and date."""

from __future__ import annotations

from flask import g, render_template, request
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField, ValidationError

from portal import audit
from portal.access import requires, requires_portal_admin
from portal.admin import routes as tenant_admin
from portal.forms import GovDateField
from portal.pagination import paginate
from portal.partners import routes as portal_admin


class TrailFilterForm(FlaskForm):
    """The filters above a trail, sent as GET parameters so that links can be shared."""

    class Meta:
        csrf = False

    person = SelectField(
        "Person",
        description="Who did it, or whom it was about",
        default="",
        widget=GovSelect(),
    )
    action = SelectField("What happened", default="", widget=GovSelect())
    since = GovDateField("From", message="The start date must be a real date, for example 1 4 2026")
    until = GovDateField("To", message="The end date must be a real date, for example 30 4 2026")
    submit = SubmitField("Show events", widget=GovSubmitInput())

    def __init__(self, tenant_id: int | None):
        super().__init__(formdata=request.args)
        self.person.choices = [("", "Anyone")] + [
            (str(p.id), f"{p.name} ({p.email})") for p in audit.people_in(tenant_id)
        ]
        self.action.choices = [("", "Any action")] + audit.actions_in(tenant_id)
        for field in (self.person, self.action):
            field.pre_validate = self._choice_or_blank(field)

    @staticmethod
    def _choice_or_blank(field):
        def check(form):
            if field.data not in {value for value, _ in field.choices}:
                raise ValidationError(f"Choose {field.label.text.lower()} from the list")

        return check

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.since.data and self.until.data and self.until.data < self.since.data:
            self.until.errors.append("The end date must be the same as or after the start date")
            return False
        return valid

    def filters(self) -> audit.Filters:
        return audit.Filters(
            person_id=int(self.person.data) if self.person.data else None,
            action=self.action.data or None,
            since=self.since.data,
            until=self.until.data,
        )


def _trail_page(tenant_id: int | None, template: str):
    form = TrailFilterForm(tenant_id)
    filters = audit.Filters()
    if any(k != "page" for k in request.args) and form.validate():
        filters = form.filters()
    page = paginate(audit.trail(tenant_id, filters))
    return render_template(
        template,
        form=form,
        page=page,
        rows=audit.named(page.items),
        filtered=filters != audit.Filters(),
    )


@tenant_admin.tenant_bp.route("/audit")
@requires("admin")
def audit_trail():
    return _trail_page(g.tenant.id, "admin/audit.html")


@portal_admin.bp.route("/audit", endpoint="audit_trail")
@requires_portal_admin
def portal_audit_trail():
    return _trail_page(None, "partners/audit.html")

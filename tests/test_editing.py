"""One way to edit: one error type that lands on its field, one version check that refuses
a missing version on every edit page, one shape of conflict page, and length limits read
from the models by forms and importers alike."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask_wtf import FlaskForm
from wtforms import StringField

from portal.editing import EditConflict, Invalid, show_invalid
from portal.tenancy import tenant_scope
from tests.helpers import csrf_token, tenant

CHANGED = "Changed by a form that lost its version."


class _FormFields(HTMLParser):
    """The values a browser would send from the form that carries a ``version``."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, list[str]]] = []
        self._form = None
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {}
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form.setdefault(self._textarea, []).append("")
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self._form.setdefault(self._select, []).append(a.get("value", ""))

    def handle_data(self, data):
        if self._textarea:
            self._form[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def edit_form(page: str) -> dict[str, list[str]]:
    parser = _FormFields()
    parser.feed(page)
    forms = [f for f in parser.forms if "version" in f]
    assert forms, "no edit form on the page"
    return forms[0]


def _first(pattern: str, page: str) -> str:
    match = re.search(pattern, page)
    assert match, f"nothing matches {pattern}"
    return match.group(1)


def _eqia(client):
    page = client.get("/t/sevenoaks/eqia/").get_data(as_text=True)
    number = _first(r'/t/sevenoaks/eqia/(\d+)"', page)
    return f"/t/sevenoaks/eqia/{number}/edit"


def _incident(client, app):
    from tests.test_incidents import add

    return f"/t/sevenoaks/incidents/{add(app, 'sevenoaks')}/edit"


def _objective(client):
    page = client.get("/t/maidstone/plan/objectives").get_data(as_text=True)
    number = _first(r'/plan/objectives/(\d+)"', page)
    return f"/t/maidstone/plan/objectives/{number}"


def _action(client, app):
    from tests.test_actions import _first_action_number

    return f"/t/maidstone/plan/actions/{_first_action_number(app)}/edit"


def _commitment(client):
    page = client.get("/t/west-kent-housing/plan/commitments").get_data(as_text=True)
    number = _first(r'/plan/commitments/(\d+)"', page)
    return f"/t/west-kent-housing/plan/commitments/{number}"


def _period(client):
    page = client.get("/p/west-kent/aims/").get_data(as_text=True)
    number = _first(r'/p/west-kent/aims/(\d+)"', page)
    return f"/p/west-kent/aims/{number}/edit"


def _joint_aim(client):
    page = client.get(_period(client).removesuffix("/edit")).get_data(as_text=True)
    number = _first(r"joint-aims/(\d+)/edit", page)
    return f"/p/west-kent/aims/joint-aims/{number}/edit"


def _measure(client, app):
    from tests.test_monitoring import _measure as add_measure

    with app.app_context():
        number = add_measure("sevenoaks")
    return f"/t/sevenoaks/monitoring/measures/{number}/edit"


def _joint_measure(client, app):
    from tests.test_monitoring_joint import _joint

    return f"/p/west-kent/monitoring/joint-measures/{_joint(client)}/edit"


def _section(client):
    return "/t/tonbridge-malling/returns/west-kent/2025-26/sections/priorities"


# (who signs in, how to find the edit page, the field to change)
EDIT_PAGES = {
    "assessment": (("officer", "sevenoaks"), lambda c, app: _eqia(c), "title"),
    "incident": (("caseworker", "sevenoaks"), _incident, "actions"),
    "objective": (("officer", "maidstone"), lambda c, app: _objective(c), "title"),
    "action": (("officer", "maidstone"), _action, "task"),
    "commitment": (("officer", "west-kent-housing"), lambda c, app: _commitment(c), "text"),
    "plan period": ((None, "west-kent"), lambda c, app: _period(c), "title"),
    "joint aim": ((None, "west-kent"), lambda c, app: _joint_aim(c), "text"),
    "return section": (("officer", "tonbridge-malling"), lambda c, app: _section(c), "text"),
    "measure": (("officer", "sevenoaks"), _measure, "name"),
    "joint measure": ((None, "west-kent"), _joint_measure, "name"),
}


def _sign_in(login_as, who):
    role, place = who
    if role is None:
        login_as("lead", partnership=place)
    else:
        login_as(role, place)


@pytest.mark.parametrize("kind", list(EDIT_PAGES))
def test_every_edit_page_refuses_a_form_without_its_version(app, client, login_as, kind):
    who, find, field = EDIT_PAGES[kind]
    _sign_in(login_as, who)
    url = find(client, app)
    before = edit_form(client.get(url).get_data(as_text=True))
    assert before["version"][0], f"the {kind} page does not carry its version"
    data = {k: v for k, v in before.items() if k != "version"}
    data[field] = [CHANGED]
    data["csrf_token"] = [csrf_token(client, url)]
    response = client.post(url, data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200, kind
    assert "Somebody else changed this" in page
    assert CHANGED in page  # nothing this person typed is lost
    after = edit_form(client.get(url).get_data(as_text=True))
    assert after["version"] == before["version"]  # nothing was saved
    assert after[field] != [CHANGED]


def test_a_contribution_without_its_version_is_refused(app):
    """The one editor that used to skip the check when the version was missing."""
    from portal.eqia import services
    from portal.extensions import db
    from tests.helpers import as_partnership, partnership

    data = {
        "impacts": dict.fromkeys(services.CHARACTERISTICS, "neutral"),
        "evidence": "What we know.",
        "contributor": "A. Officer",
    }
    with app.app_context():
        with as_partnership("west-kent"):
            joint = services.start_joint_assessment(
                partnership("west-kent"),
                {"title": "Bus passes", "subject": "Transport", "lead_officer": "A. Lead"},
            )
            joint_id = joint.id
        with tenant_scope(tenant("sevenoaks")):
            joint = next(
                j for j in db.session.scalars(services.joint_assessments()) if j.id == joint_id
            )
            row = services.save_contribution(joint, data, version=None)  # a new one
            version = row.version
            with pytest.raises(EditConflict):
                services.save_contribution(joint, {**data, "evidence": "Later."}, version=None)
            db.session.rollback()
            saved = services.contribution_for(joint)
            assert (saved.version, saved.evidence) == (version, "What we know.")
            services.save_contribution(joint, {**data, "evidence": "Later."}, version=version)
            assert services.contribution_for(joint).evidence == "Later."


def _conflict_skeleton(page: str) -> list[tuple[str, str]]:
    """The tags and classes of the conflict panel, one table row standing for all."""
    start = page.index('class="govuk-error-summary')
    end = page.index("</table>", start)
    tags = re.findall(r"<(/?[a-z0-9]+)(?:[^>]*?class=\"([^\"]*)\")?", page[start:end])
    out: list[tuple[str, str]] = []
    for tag in tags:
        out.append(tag)
        # a row is a row: three cells, whatever the record; keep one
        if tag[0] == "/tr" and out.count(("/tr", "")) > 2:
            row = out[-8:]
            del out[-8:]
            assert row == out[-8:], "rows of the table differ in shape"
    return out


def _stale_save(client, url: str, field: str, first: str, second: str) -> str:
    form = edit_form(client.get(url).get_data(as_text=True))
    form["csrf_token"] = [csrf_token(client, url)]
    assert client.post(url, data={**form, field: [first]}).status_code == 302
    response = client.post(url, data={**form, field: [second]})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_conflict_page_has_one_shape_for_every_record(app, client, login_as):
    from tests.conftest import AuthActions

    login_as("officer", "sevenoaks")
    assessment = _stale_save(client, _eqia(client), "title", "Theirs A", "Mine A")
    other = app.test_client()
    assert AuthActions(other).login("officer@west-kent-housing.demo").status_code == 302
    commitment = _stale_save(other, _commitment(other), "text", "Theirs B", "Mine B")

    assert "Somebody else changed this assessment" in assessment
    assert "Somebody else changed this commitment" in commitment
    pages = ((assessment, "Theirs A", "Mine A"), (commitment, "Theirs B", "Mine B"))
    for page, theirs, mine in pages:
        assert theirs in page and mine in page
        for heading in ("Field", "Saved version", "Your version"):
            assert f">{heading}</th>" in page
    assert _conflict_skeleton(assessment) == _conflict_skeleton(commitment)


# --- one error type ---------------------------------------------------------------------


class _Form(FlaskForm):
    class Meta:
        csrf = False

    title = StringField("Title")
    text = StringField("Text")


def test_an_invalid_lands_on_its_field_or_in_the_summary(app):
    from portal.templating import _error_summary

    with app.test_request_context(method="POST", data={"title": "x", "text": "y"}):
        form = _Form()
        assert form.validate()
        show_invalid(form, Invalid("text", "Enter the text in fewer words"))
        assert form.text.errors == ["Enter the text in fewer words"]
        assert form.title.errors == []
        show_invalid(form, Invalid(None, "This record can no longer be changed"))
        assert form.form_errors == ["This record can no longer be changed"]
        summary = _error_summary(form)["errorList"]
        assert {"text": "Enter the text in fewer words", "href": "#text"} in summary
        assert {"text": "This record can no longer be changed", "href": "#title"} in summary
        several = Invalid.of({"title": "Enter a title", "text": "Enter the text"})
        form = _Form()
        form.validate()
        show_invalid(form, several)
        assert (form.title.errors, form.text.errors) == (["Enter a title"], ["Enter the text"])
        assert str(several) == "Enter a title; Enter the text"


def test_a_service_refusal_lands_on_its_field_of_the_page(app, client, login_as):
    """A forged joint aim is refused by the service; the message is on that field."""
    login_as("officer", "west-kent-housing")
    url = _commitment(client)
    form = edit_form(client.get(url).get_data(as_text=True))
    form["csrf_token"] = [csrf_token(client, url)]
    form["joint_aims"] = ["999999"]
    response = client.post(url, data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    message = "Choose only joint aims of your own partnerships"
    assert f'<a href="#joint_aims">{message}</a>' in page
    assert re.search(r'id="joint_aims-error"[^>]*>\s*<span[^>]*>Error:</span> ' + message, page)


def test_module_errors_are_the_one_error_type():
    from portal.actions.services import ValidationError
    from portal.aims.services import LinkError
    from portal.auth.services import AccountError
    from portal.disclosure import RuleError
    from portal.monitoring.measures import MeasureError
    from portal.monitoring.profiles import ProfileError
    from portal.monitoring.releases import ReleaseError
    from portal.monitoring.targets import TargetError
    from portal.partners.services import DeclarationError
    from portal.reports.content import ContentError
    from portal.returns.services import ReturnsError

    kinds = (ValidationError, LinkError, AccountError, DeclarationError, ContentError)
    kinds += (ReturnsError, RuleError, MeasureError, ProfileError, ReleaseError, TargetError)
    for kind in kinds:
        assert issubclass(kind, Invalid)
        assert kind.__init__ is Invalid.__init__  # the same error, only named for its module


# --- length limits, declared once on the model ------------------------------------------


def test_a_length_limit_on_the_model_is_what_form_and_importer_enforce(app):
    from portal.actions import import_checks
    from portal.actions.forms import ActionForm
    from portal.actions.models import Action
    from portal.models import limit

    most = limit(Action.task)
    assert most == 4000
    lengths = [v for v in ActionForm.task.kwargs["validators"] if hasattr(v, "max")]
    assert [v.max for v in lengths] == [most]
    assert limit(Action.directorate) == Action.__table__.c.directorate.type.length
    directorate = ActionForm.directorate.kwargs["validators"][-1]
    assert directorate.max == limit(Action.directorate)

    with app.test_request_context(
        method="POST", data={"task": "x" * (most + 1), "objective_id": "1"}
    ):
        form = ActionForm(meta={"csrf": False})
        form.objective_id.choices = [("1", "One")]
        form.validate()
        assert form.task.errors == ["Action must be 4,000 characters or fewer"]

    with app.app_context(), tenant_scope(tenant("maidstone")):
        _values, problems = import_checks.check_row(7, {"task": "x" * (most + 1)})
        assert any(f"must be {most:,} or fewer" in p and "Row 7" in p for p in problems)
        _values, problems = import_checks.check_row(8, {"task": "x" * most})
        assert not any("or fewer" in p for p in problems)


def _form_limits():
    from portal.actions.forms import ProgressForm, WithdrawProgressForm
    from portal.actions.models import ProgressUpdate
    from portal.admin.forms import InviteForm
    from portal.auth.forms import ForgotPasswordForm, LoginForm
    from portal.auth.models import Invitation, User
    from portal.eqia.forms import AssessmentForm, ConcludeJointForm, ContributionForm
    from portal.eqia.models import ImpactAssessment, JointAssessment, JointContribution
    from portal.incidents.forms import IncidentForm
    from portal.incidents.models import HateIncident
    from portal.monitoring.forms import CorrectionForm, JointMeasureForm, MeasureForm
    from portal.monitoring.models import FigureRelease, Measure, MeasureDefinition
    from portal.partners.forms import InviteAdminForm, PartnershipForm, TenantForm
    from portal.partners.models import Partnership, Tenant
    from portal.reports.forms import PublishForm, ReportTextForm
    from portal.reports.models import JointReport, JointReportVersion

    return [
        (AssessmentForm.subject, ImpactAssessment.subject),
        (AssessmentForm.decision, ImpactAssessment.decision),
        (ConcludeJointForm.conclusion, JointAssessment.conclusion),
        (ContributionForm.contributor, JointContribution.contributor),
        (IncidentForm.person_details, HateIncident.person_details),
        (ReportTextForm.foreword, JointReport.foreword),
        (PublishForm.note, JointReportVersion.correction_note),
        (LoginForm.email, User.email),
        (ForgotPasswordForm.email, User.email),
        (InviteForm.name, Invitation.name),
        (InviteForm.email, Invitation.email),
        (PartnershipForm.slug, Partnership.slug),
        (TenantForm.name, Tenant.name),
        (TenantForm.alternative_formats, Tenant.alternative_formats),
        (InviteAdminForm.email, Invitation.email),
        (MeasureForm.name, Measure.name),
        (MeasureForm.description, Measure.description),
        (JointMeasureForm.whole_name, MeasureDefinition.name),
        (CorrectionForm.reason, FigureRelease.trigger_detail),
        (ProgressForm.narrative, ProgressUpdate.narrative),
        (WithdrawProgressForm.reason, ProgressUpdate.change_reason),
    ]


def test_forms_take_their_length_limits_from_the_models():
    from portal.models import limit

    for field, column in _form_limits():
        lengths = [v.max for v in field.kwargs["validators"] if getattr(v, "max", -1) != -1]
        assert lengths == [limit(column)], f"{field.args[0]}: {lengths}"


def test_no_form_writes_a_length_of_its_own():
    from pathlib import Path

    import portal

    root = Path(portal.__file__).parent
    # Not columns: a password (only its hash is kept), and a target typed as a number.
    own_rules = ("Password must be", "as a number")
    for forms in root.glob("*/forms.py"):
        written = re.findall(r".*(?:Length\(max=\d|max_length=\d).*", forms.read_text())
        assert [w for w in written if not any(rule in w for rule in own_rules)] == [], forms

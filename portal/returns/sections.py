"""The sections of a return: what each asks for, and when each is complete.

:func:`read_answers` turns a submitted form into a section's answers; :func:`problems`
says, in the users' words, what stops a section being complete (field id -> message).
A section is marked complete only when it has no problems.
"""

from __future__ import annotations

import re
from decimal import Decimal

from portal.forms import parse_id
from portal.returns import sources
from portal.returns.models import ReportingYear

NARRATIVE_MAX = 5000
SHORT_MAX = 2000
HIGHLIGHTS_MAX = 3

# The six gender pay gap figures (quartiles count as one figure, in four bands).
PAY_GAP_FIELDS = {
    "mean_hourly_gap": "Mean hourly pay gap",
    "median_hourly_gap": "Median hourly pay gap",
    "mean_bonus_gap": "Mean bonus gap",
    "median_bonus_gap": "Median bonus gap",
    "bonus_men": "Men paid a bonus",
    "bonus_women": "Women paid a bonus",
}
QUARTILES = {
    "lower": "Lower quartile",
    "lower_middle": "Lower middle quartile",
    "upper_middle": "Upper middle quartile",
    "upper": "Upper quartile",
}


def _text(form, name: str) -> str:
    return (form.get(name) or "").replace("\r\n", "\n").strip()


# A percentage as people write one: "7.5", "-3", "12.25 %". Digits 0 to 9 only, and no
# exponent, underscore or "nan", which Python's own number parsing would take.
_PERCENTAGE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
PERCENT_PLACES = 2


def _percentage(text: str) -> Decimal | None:
    """A typed percentage, exactly as typed (None if it is not a number)."""
    text = (text or "").strip().removesuffix("%").strip()
    if len(text) > 20 or not _PERCENTAGE.fullmatch(text):
        return None
    return Decimal(text)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _stored(value: Decimal | None) -> float | None:
    """A checked percentage as the snapshot's JSON number. At most two decimal places and
    no more than 1,000 either way, so the number written reads back as the digits typed."""
    return None if value is None else float(value)


def read_answers(key: str, form, year: ReportingYear, drawn) -> dict:
    """The answers a section's form sends, kept as typed (numbers as text) so that a
    section saved with mistakes shows them again to be put right."""
    if key == "aims":
        return {
            "narratives": {str(p.aim.id): _text(form, f"aim-{p.aim.id}") for p in drawn},
            "highlights": {
                str(p.aim.id): [
                    i for i in (parse_id(v) for v in form.getlist(f"highlights-{p.aim.id}")) if i
                ]
                for p in drawn
            },
        }
    if key == "commitments":
        return {"narratives": {str(c.id): _text(form, f"commitment-{c.id}") for c in drawn}}
    if key == "measures":
        return {
            "reasons": {
                str(m.definition.id): _text(form, f"reason-{m.definition.id}")
                for m in drawn
                if not m.has_figure
            }
        }
    if key == "workforce":
        answers = {
            "employees": _text(form, "employees"),
            "public_authority": _text(form, "public_authority"),
            "narrative": _text(form, "narrative"),
            "gpg": {name: _text(form, name) for name in PAY_GAP_FIELDS},
        }
        for band in QUARTILES:
            for sex in ("men", "women"):
                answers["gpg"][f"{band}_{sex}"] = _text(form, f"{band}_{sex}")
        return answers
    if key in ("assessments", "incidents"):
        return {"narrative": _text(form, "narrative"), "checked": form.get("checked") == "yes"}
    if key == "case_studies":
        return {"none": form.get("none") == "yes"}
    if key == "priorities":
        return {"text": _text(form, "text")}
    raise KeyError(key)


def _narrative(errors: dict, field: str, text: str, what: str, *, required: bool = True):
    if required and not text:
        errors[field] = f"Enter {what}"
    elif len(text) > NARRATIVE_MAX:
        errors[field] = f"{what[0].upper()}{what[1:]} must be {NARRATIVE_MAX:,} characters or fewer"


def employees_of(answers: dict, drawn: sources.Workforce) -> int | None:
    """The number of employees: from the workforce profile when it has the year's total,
    otherwise as typed."""
    if drawn.employees is not None:
        return drawn.employees
    text = str(answers.get("employees") or "").strip().replace(",", "")
    # The length check comes first: int() refuses strings of more than 4,300 digits.
    return int(text) if text.isdecimal() and len(text) <= 9 else None


def problems(key: str, answers: dict, year: ReportingYear, drawn, tenant=None) -> dict:
    """What stops the section being complete, by form field."""
    errors: dict[str, str] = {}
    if key == "aims":
        for p in drawn:
            aim = str(p.aim.id)
            _narrative(
                errors,
                f"aim-{aim}",
                answers.get("narratives", {}).get(aim, ""),
                "what you did towards this aim",
            )
            picked = answers.get("highlights", {}).get(aim, [])
            allowed = {u.id for u in p.updates}
            if set(picked) - allowed:
                errors[f"highlights-{aim}"] = "Choose highlights from this year's progress updates"
            elif len(picked) > HIGHLIGHTS_MAX:
                errors[f"highlights-{aim}"] = f"Choose up to {HIGHLIGHTS_MAX} highlights"
    elif key == "commitments":
        for c in drawn:
            _narrative(
                errors,
                f"commitment-{c.id}",
                answers.get("narratives", {}).get(str(c.id), ""),
                "the progress made on this commitment",
            )
    elif key == "measures":
        for m in drawn:
            if m.has_figure:
                continue
            reason = answers.get("reasons", {}).get(str(m.definition.id), "")
            field = f"reason-{m.definition.id}"
            if not reason:
                errors[field] = (
                    f"Enter the figure for {year.label} on the measure's page, or say why "
                    "there is no figure"
                )
            elif len(reason) > SHORT_MAX:
                errors[field] = f"The reason must be {SHORT_MAX:,} characters or fewer"
    elif key == "workforce":
        _workforce_problems(errors, answers, drawn)
    elif key in ("assessments", "incidents"):
        _narrative(errors, "narrative", answers.get("narrative", ""), "a comment", required=False)
        if not answers.get("checked"):
            errors["checked"] = "Confirm that you have checked these figures"
    elif key == "case_studies":
        if not drawn and not answers.get("none"):
            errors["none"] = "Add a case study, or say that you have none this year"
    elif key == "priorities":
        _narrative(errors, "text", answers.get("text", ""), "your priorities for next year")
    return errors


def _workforce_problems(errors: dict, answers: dict, drawn: sources.Workforce) -> None:
    if drawn.employees is None:
        text = str(answers.get("employees") or "").replace(",", "")
        if not text:
            errors["employees"] = "Enter how many people you employ"
        elif not text.isdecimal() or len(text) > 9 or int(text) > 10_000_000:
            errors["employees"] = "Enter how many people you employ as a whole number, like 420"
    _narrative(errors, "narrative", answers.get("narrative", ""), "a comment", required=False)
    employees = employees_of(answers, drawn)
    if employees is None or employees < sources.GENDER_PAY_GAP_EMPLOYEES:
        return
    if answers.get("public_authority") not in ("yes", "no"):
        errors["public_authority"] = "Say whether you are a public authority"
    gpg = answers.get("gpg", {})
    for name, label in PAY_GAP_FIELDS.items():
        value = _percentage(gpg.get(name, ""))
        low = -100 if name.endswith("_gap") and "bonus" not in name else None
        if not gpg.get(name):
            errors[name] = f"Enter the {label.lower()} as a percentage"
        elif value is None:
            errors[name] = f"Enter the {label.lower()} as a number, like 7.5"
        elif _places(value) > PERCENT_PLACES:
            errors[name] = (
                f"Enter the {label.lower()} to {PERCENT_PLACES} decimal places or fewer, like 7.5"
            )
        elif name.startswith("bonus_") and not 0 <= value <= 100:
            errors[name] = f"The {label.lower()} must be between 0% and 100%"
        elif low is not None and not -100 <= value <= 100:
            errors[name] = f"The {label.lower()} must be between -100% and 100%"
        elif value > 100 or value < -1000:
            errors[name] = f"The {label.lower()} must be between -1000% and 100%"
    for band, label in QUARTILES.items():
        men, women = (_percentage(gpg.get(f"{band}_{s}", "")) for s in ("men", "women"))
        field = f"{band}_men"
        if men is None or women is None:
            errors[field] = f"Enter the percentage of men and of women in the {label.lower()}"
        elif max(_places(men), _places(women)) > PERCENT_PLACES:
            errors[field] = (
                f"Enter the men and women in the {label.lower()} to {PERCENT_PLACES} decimal "
                "places or fewer, like 47.5"
            )
        elif not (0 <= men <= 100 and 0 <= women <= 100) or abs(men + women - 100) > Decimal("0.5"):
            errors[field] = f"The men and women in the {label.lower()} must add up to 100%"


def pay_gap(answers: dict) -> dict | None:
    """The six figures as numbers, for the snapshot (None when not reported)."""
    gpg = answers.get("gpg") or {}
    if not gpg.get("mean_hourly_gap"):
        return None
    out: dict = {name: _stored(_percentage(gpg.get(name, ""))) for name in PAY_GAP_FIELDS}
    out["quartiles"] = {
        band: {s: _stored(_percentage(gpg.get(f"{band}_{s}", ""))) for s in ("men", "women")}
        for band in QUARTILES
    }
    return out

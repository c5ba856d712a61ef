"""The words of other organisations' spreadsheets, and what they mean on the portal.

- **Columns.** The headings each field of an action is known by (the seed plans', the
  portal's own export's, and common alternatives), and the words of the cells: aims of the
  general duty, protected characteristics and the portal's statuses.

- **Status words.** A council's plan says "In progress", "Ongoing", "Done" or "Amber"
  where the portal says On target, At risk or Complete. Each word the portal does not know
  is asked about once, on an import's preview, with the likely status already chosen
  (``suggest_status``); the choice is kept for the organisation (``ImportStatusWord``) and
  used for every later import.
- **Lead officers.** A lead officer named as a portal account of the organisation is (by
  name, when only one account has it, or by email address) linked to that account; the
  text stays as written.
- **Roles and focus areas.** The portal's export names each objective's role or focus area
  ("As an Employer", "1. Knowing our communities") and focus point ("1.1 Collecting
  information"). They are found among the organisation's own, or are added with the
  objective, so an exported plan imports again as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import audit, clock
from portal.actions import services
from portal.actions.models import (
    CHARACTERISTICS,
    PSED_AIMS,
    ROLES,
    STATUSES,
    Action,
    FocusArea,
    FocusPoint,
    ImportStatusWord,
    Objective,
)
from portal.extensions import db
from portal.models import limit

# --- columns and the words of their cells --------------------------------------------


def word_key(text: str) -> str:
    """A heading or a word of a cell as it is compared (and a status word as it is kept):
    lower case, single spaces, no trailing colon, question mark or full stop."""
    text = " ".join((text or "").replace("\u00a0", " ").split()).lower()
    return text.rstrip(":?. ").strip()


# What a column can be imported as, in the order the select lists them.
FIELDS = {
    "task": "Action (task)",
    "objective": "Objective",
    "area": "Role or focus area (of a new objective)",
    "focus_point": "Focus point (of a new objective)",
    "arising_from": "Arising from",
    "lead_officer": "Lead officer",
    "lead_user": "Lead officer’s portal account (name or email)",
    "directorate": "Directorate",
    "section": "Section",
    "target_text": "Target date",
    "status": "Status",
    "corporate_priority": "Corporate plan priority",
    "eflg_criteria": "EFLG criteria",
    "psed_aims": "PSED aims",
    "characteristics": "Protected characteristics",
    "measures": "How we will know it is done",
    "ignore": "Do not import this column",
}


TEXT_FIELDS = (
    "task",
    "arising_from",
    "lead_officer",
    "directorate",
    "section",
    "target_text",
    "corporate_priority",
    "eflg_criteria",
    "measures",
)


LENGTH_NAMES = {
    "objective": "objective",
    "task": "task",
    "arising_from": "“arising from”",
    "lead_officer": "lead officer",
    "directorate": "directorate",
    "section": "section",
    "target_text": "target date",
    "corporate_priority": "corporate plan priority",
    "eflg_criteria": "EFLG criteria",
    "measures": "“how we will know it is done”",
    "area": "role or focus area",
    "focus_point": "focus point",
}


# The limits of the cells that do not go into an action's column of the same name; every
# limit is the one declared on the model, as the forms read it.
TEXT_LIMITS = {
    "objective": limit(Objective.title),
    "task": limit(Action.task),
    "measures": limit(Action.measures),
    "area": limit(FocusArea.title),
    "focus_point": limit(FocusPoint.title),
}


# Headings of the seed tables (Thanet's action plan, Maidstone's objectives and action
# plan) and of the portal's own export, and a few common alternatives.
HEADINGS = {
    "task": ["objective/task", "task", "action", "actions", "action/task"],
    "objective": ["objective", "objectives", "equality objective"],
    "area": ["role or focus area", "role/focus area", "role", "focus area", "theme"],
    "focus_point": ["focus point", "focus points"],
    "arising_from": ["arising from"],
    "lead_officer": [
        "lead officer",
        "responsible officer",
        "lead or responsible officer",
        "lead",
        "officer",
    ],
    "lead_user": ["lead officer on the portal", "portal account", "lead officer email"],
    "directorate": ["directorate"],
    "section": ["section"],
    "target_text": [
        "target completion date",
        "target date (as written)",
        "target date",
        "to be delivered by",
        "delivered by",
        "deliver by",
        "target date or deliver by",
        "due date",
    ],
    "status": ["status"],
    "corporate_priority": ["cp priority", "corporate plan priority", "corporate priority"],
    "eflg_criteria": ["eflg criteria", "eflg"],
    "psed_aims": [
        "psed aim",
        "psed aims",
        "aims of the general equality duty",
        "general duty aims",
    ],
    "characteristics": ["pc", "protected characteristic", "protected characteristics"],
    "measures": [
        "how will we know that this done",
        "how will we know that this is done",
        "how will we know it is done",
        "how we will know it is done",
        "measures",
    ],
    # Columns of the portal's export that the import does not read.
    "ignore": [
        "overdue",
        "joint aims",
        "demonstration data",
    ],
}


KNOWN_HEADINGS = {word_key(h): name for name, headings in HEADINGS.items() for h in headings}


PSED_WORDS = {
    **{key: key for key in PSED_AIMS},
    **{word_key(label): key for key, label in PSED_AIMS.items()},
    "eliminate discrimination": "eliminate",
    "eliminate unlawful discrimination": "eliminate",
    "advance equality": "advance",
    "equality of opportunity": "advance",
    "good relations": "foster",
}


CHARACTERISTIC_WORDS = {
    **{key: key for key in CHARACTERISTICS},
    **{word_key(label): key for key, label in CHARACTERISTICS.items()},
    "gender reassignment": "gender-reassignment",
    "marriage & civil partnership": "marriage-civil-partnership",
    "pregnancy & maternity": "pregnancy-maternity",
    "religion and belief": "religion-belief",
    "religion & belief": "religion-belief",
    "religion/belief": "religion-belief",
    "religion or belief": "religion-belief",
    "sexual orientation": "sexual-orientation",
}


ALL_WORDS = {"all", "all protected characteristics", "all characteristics", "all aims"}


NONE_WORDS = {"", "n/a", "na", "none", "not applicable", "-", "not recorded"}


STATUS_WORDS = {
    **{key: key for key in STATUSES},
    **{word_key(label): key for key, label in STATUSES.items()},
}


NO_STATUS_WORDS = {"", "no status recorded", "not recorded"}


STATUS_NAMES = ", ".join(STATUSES.values())


def guess_mapping(headings: list[str]) -> list[str]:
    """The field each column is recognised as; each field goes to its first column only."""
    taken: set[str] = set()
    mapping = []
    for heading in headings:
        name = KNOWN_HEADINGS.get(word_key(heading), "ignore")
        if name != "ignore" and name in taken:
            name = "ignore"
        taken.add(name)
        mapping.append(name)
    return mapping


def recognised(heading: str) -> bool:
    """Whether a heading is one the import knows."""
    return word_key(heading) in KNOWN_HEADINGS


# --- status words ------------------------------------------------------------------------

# The choice that means "no status recorded" (stored as "").
NO_STATUS = "none"
STATUS_CHOICES = {**STATUSES, NO_STATUS: "No status recorded"}
# A status column with more wordings than this holds notes of progress, not statuses.
MAX_STATUS_WORDS = 30
WORD_LENGTH = 100

# Status words common in councils' and housing associations' plans, by what they usually
# mean; RAG colours as most plans use them.
COMMON_STATUS_WORDS = {
    "not-started": [
        "not yet started",
        "not started yet",
        "not begun",
        "not yet begun",
        "not commenced",
        "not yet commenced",
        "yet to start",
        "yet to begin",
        "to start",
        "to do",
        "planned",
        "pending",
        "not due",
        "not yet due",
        "not due to start",
        "awaiting start",
        "new",
    ],
    "on-target": [
        "in progress",
        "in-progress",
        "ongoing",
        "on-going",
        "on going",
        "on track",
        "on schedule",
        "underway",
        "under way",
        "started",
        "in hand",
        "progressing",
        "continuing",
        "work in progress",
        "wip",
        "active",
        "green",
        "partially complete",
        "partly complete",
        "partially achieved",
    ],
    "at-risk": [
        "delayed",
        "behind",
        "behind schedule",
        "off track",
        "off target",
        "not on track",
        "slipped",
        "slipping",
        "overdue",
        "late",
        "on hold",
        "paused",
        "some concerns",
        "concerns",
        "amber",
        "red",
    ],
    "complete": [
        "completed",
        "done",
        "finished",
        "achieved",
        "fully achieved",
        "delivered",
        "implemented",
        "closed",
        "met",
        "blue",
    ],
    "cancelled": [
        "withdrawn",
        "dropped",
        "stopped",
        "abandoned",
        "superseded",
        "no longer required",
        "no longer needed",
        "not proceeding",
        "removed",
        "deleted",
        "canceled",
    ],
}
_COMMON = {word: status for status, words in COMMON_STATUS_WORDS.items() for word in words}
# Parts of longer wordings ("Completed March 2025", "Slightly delayed"), in the order
# they are tried: "not started" before "started", "partly complete" before "complete".
_STEMS = (
    ("on-target", ("partial", "partly")),
    ("not-started", ("not started", "not yet started", "not begun", "yet to")),
    ("cancelled", ("cancel", "withdr", "no longer")),
    ("complete", ("complet", "achieved", "finished", "done", "delivered")),
    ("at-risk", ("delay", "risk", "behind", "slipp", "overdue", "off track", "on hold")),
    ("on-target", ("progress", "on track", "ongoing", "on-going", "underway", "started")),
)


def suggest_status(text: str) -> str:
    """The status a word most likely means, or "" when there is no likely one."""
    key = word_key(text)
    if key in _COMMON:
        return _COMMON[key]
    for status, stems in _STEMS:
        if any(stem in key for stem in stems):
            return status
    return ""


def remembered_words() -> dict[str, str]:
    """The organisation's status words: word → status key ("" for no status recorded)."""
    return {w.word: w.status for w in db.session.scalars(select(ImportStatusWord))}


@dataclass
class StatusWord:
    """A status word of a file that is not one of the portal's, and its meaning."""

    text: str
    key: str
    rows: int = 0
    # The status chosen before (a key of STATUS_CHOICES), or None if not yet chosen.
    chosen: str | None = None

    @property
    def suggestion(self) -> str:
        return suggest_status(self.text)

    @property
    def meaning(self) -> str:
        """What the word is read as, in words, once chosen."""
        return STATUS_CHOICES.get(self.chosen or "", "")


def choice_of(status: str) -> str:
    """The form choice for a stored meaning ("" is no status recorded)."""
    return status or NO_STATUS


def save_status_words(words: list[StatusWord], choices: list[str]) -> None:
    """Keep what each word means for the organisation; services.ValidationError, with
    nothing kept, if any choice is missing or not a status."""
    errors: dict[str, str] = {}
    if len(choices) != len(words):
        raise services.ValidationError.of({"word_0": "Choose what each status word means"})
    for index, (word, choice) in enumerate(zip(words, choices, strict=True)):
        if choice not in STATUS_CHOICES:
            errors[f"word_{index}"] = f"Choose what “{word.text}” means"
    if errors:
        raise services.ValidationError.of(errors)
    # Two people may choose a meaning for the same new word at once: the second save meets
    # the first one's row, and is made again as a change of it.
    for attempt in (1, 2):
        try:
            _keep_status_words(words, choices)
            return
        except IntegrityError:
            db.session.rollback()
            if attempt == 2:
                raise
        except Exception:
            db.session.rollback()
            raise


def _keep_status_words(words: list[StatusWord], choices: list[str]) -> None:
    now = clock.utcnow()
    kept = {w.word: w for w in db.session.scalars(select(ImportStatusWord))}
    saved: dict[str, str] = {}
    for word, choice in zip(words, choices, strict=True):
        status = "" if choice == NO_STATUS else choice
        row = kept.get(word.key)
        if row is None:
            row = ImportStatusWord(word=word.key)
            db.session.add(row)
        row.status = status
        row.updated_at = now
        saved[word.key] = status
    audit.record("actions.import_status_words", object_type="Action", detail={"words": saved})
    db.session.commit()


# --- lead officers -----------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def same(text: str) -> str:
    """Text as compared for sameness: single spaces, any case."""
    return " ".join((text or "").split()).casefold()


class People:
    """The organisation's accounts, found by name (when the name is unique) or email."""

    def __init__(self):
        self.by_name: dict[str, list] = {}
        self.by_email: dict[str, object] = {}
        for person in services.tenant_people():
            self.by_name.setdefault(same(person.name), []).append(person)
            self.by_email[person.email.casefold()] = person

    def match(self, text: str):
        """The account a cell names, or None."""
        if not text:
            return None
        for address in EMAIL.findall(text):
            person = self.by_email.get(address.casefold())
            if person is not None:
                return person
        found = self.by_name.get(same(text), [])
        return found[0] if len(found) == 1 else None


# --- roles, focus areas and focus points -------------------------------------------------

_AREA_LABEL = re.compile(r"^(\d+(?:\.\d+)*)\.\s+(.+)$|^([A-Za-z0-9][\w.-]{0,19}):\s+(.+)$", re.S)
_POINT_LABEL = re.compile(r"^(\d+(?:\.\d+)+[a-z]?)\s+(.+)$", re.S)
_ROLE_LABELS = {same(label): key for key, label in ROLES.items()} | {
    same(label.removeprefix("As a ").removeprefix("As an ")): key for key, label in ROLES.items()
}


def area_parts(text: str) -> tuple[str, str]:
    """The number and title of a role or focus area's label ("1. Knowing …")."""
    text = " ".join(text.split())
    match = _AREA_LABEL.match(text)
    if not match:
        return "", text
    number, title = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return number, title


def point_parts(text: str) -> tuple[str, str]:
    """The number and title of a focus point's label ("1.1 Collecting information")."""
    text = " ".join(text.split())
    match = _POINT_LABEL.match(text)
    return (match.group(1), match.group(2)) if match else ("", text)


@dataclass(frozen=True)
class AreaSpec:
    """The role or focus area a row names: an existing one (``id``), a standard role
    (``role``), or a new one (``number`` and ``title``)."""

    label: str
    id: int | None = None
    role: str | None = None
    number: str = ""
    title: str = ""


@dataclass(frozen=True)
class PointSpec:
    label: str
    id: int | None = None
    number: str = ""
    title: str = ""


class Areas:
    """The organisation's roles, focus areas and focus points, found by their labels."""

    def __init__(self):
        self.areas = list(db.session.scalars(select(FocusArea)))
        self.by_label = {}
        for area in self.areas:
            self.by_label.setdefault(same(area.label), area)
            self.by_label.setdefault(same(area.title), area)
        self.points = list(db.session.scalars(select(FocusPoint)))

    def area(self, text: str) -> AreaSpec | None:
        if not text:
            return None
        label = " ".join(text.split())
        found = self.by_label.get(same(label))
        if found is not None:
            return AreaSpec(label=found.label, id=found.id)
        role = _ROLE_LABELS.get(same(label))
        if role is not None:
            existing = next((a for a in self.areas if a.role == role), None)
            if existing is not None:
                return AreaSpec(label=existing.label, id=existing.id)
            return AreaSpec(label=ROLES[role], role=role, title=ROLES[role])
        number, title = area_parts(label)
        return AreaSpec(label=label, number=number, title=title)

    def point(self, text: str, area: AreaSpec | None) -> PointSpec | None:
        """The focus point a row names, or None if it names none; ValueError if it names
        one that is not the organisation's and no area to add it under."""
        if not text:
            return None
        label = " ".join(text.split())
        number, title = point_parts(label)

        def same(p: FocusPoint) -> bool:
            return same(p.label) == same(label) or (bool(number) and same(p.number) == same(number))

        if area is not None and area.id is not None:
            found = [p for p in self.points if p.focus_area_id == area.id and same(p)]
        elif area is None:
            found = [p for p in self.points if same(p)]
            if len(found) != 1:
                raise ValueError(label)
        else:
            found = []
        if found:
            return PointSpec(label=found[0].label, id=found[0].id)
        return PointSpec(label=label, number=number, title=title)


class AreaMaker:
    """Finds or adds, while importing, the roles, areas and points the rows name."""

    def __init__(self):
        self.areas: dict[str, FocusArea] = {}
        self.points: dict[tuple[int, str], FocusPoint] = {}

    def area(self, spec: AreaSpec | None) -> FocusArea | None:
        if spec is None:
            return None
        if spec.id is not None:
            return db.session.get(FocusArea, spec.id)
        key = spec.role or same(spec.label)
        if key in self.areas:
            return self.areas[key]
        area = None
        if spec.role:
            area = db.session.scalar(select(FocusArea).where(FocusArea.role == spec.role))
        if area is None:
            position = (db.session.scalar(select(func.max(FocusArea.position))) or 0) + 1
            area = FocusArea(
                position=position,
                number=spec.number[:20],
                title=spec.title[:300],
                role=spec.role,
            )
            db.session.add(area)
            db.session.flush()
            audit.record("focus_area.created", area)
        self.areas[key] = area
        return area

    def point(self, spec: PointSpec | None, area: FocusArea | None) -> FocusPoint | None:
        if spec is None:
            return None
        if spec.id is not None:
            return db.session.get(FocusPoint, spec.id)
        if area is None:
            return None
        key = (area.id, same(spec.label))
        if key not in self.points:
            position = (
                db.session.scalar(
                    select(func.max(FocusPoint.position)).where(FocusPoint.focus_area_id == area.id)
                )
                or 0
            ) + 1
            point = FocusPoint(
                focus_area_id=area.id,
                position=position,
                number=spec.number[:20],
                title=spec.title[:300],
            )
            db.session.add(point)
            db.session.flush()
            self.points[key] = point
        return self.points[key]

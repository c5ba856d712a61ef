"""Checking the rows of an upload before anything is written.

Every row is checked with the same rules as the action form (target dates, statuses, the
aims of the general duty, protected characteristics, lengths), and every problem is listed
with its row number as the spreadsheet shows it (the heading row is row 1). A row whose
objective already has an action with the same wording is already in the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select

from portal.actions import import_files as files
from portal.actions import import_vocabulary as vocabulary
from portal.actions import services
from portal.actions.import_vocabulary import (
    ALL_WORDS,
    CHARACTERISTIC_WORDS,
    LENGTH_NAMES,
    NO_STATUS_WORDS,
    NONE_WORDS,
    PSED_WORDS,
    STATUS_NAMES,
    STATUS_WORDS,
    TEXT_FIELDS,
    TEXT_LIMITS,
    guess_mapping,
    same,
    word_key,
)
from portal.actions.models import (
    ALL_CHARACTERISTICS,
    CHARACTERISTICS,
    PSED_AIMS,
    STATUSES,
    Action,
    Objective,
    PendingImport,
)
from portal.extensions import db
from portal.forms import parse_id
from portal.models import limit

PREVIEW_ROWS = 10


NEW_OBJECTIVE = "new"


@dataclass
class ImportRow:
    """One row as it will be imported."""

    number: int
    objective: str
    values: dict
    already: bool = False
    repeated: bool = False
    # The portal account the lead officer was matched to, if any.
    lead_name: str = ""
    area: vocabulary.AreaSpec | None = None
    point: vocabulary.PointSpec | None = None
    # The status as it will be imported, in words, with the file's own word if it differs.
    status_shown: str = ""


@dataclass
class Preview:
    """The file as it will be imported, with every problem found."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    new_objectives: list[str] = field(default_factory=list)
    default_title: str = ""
    # The file's status words that are not the portal's: asked about on the preview.
    status_words: list[vocabulary.StatusWord] = field(default_factory=list)
    new_areas: list[str] = field(default_factory=list)

    @property
    def unchosen_words(self) -> list[vocabulary.StatusWord]:
        return [w for w in self.status_words if w.chosen is None]

    @property
    def matched_leads(self) -> int:
        return sum(bool(r.lead_name) for r in self.rows)

    @property
    def new(self) -> list[ImportRow]:
        return [r for r in self.rows if not r.already and not r.repeated]

    @property
    def already(self) -> list[ImportRow]:
        return [r for r in self.rows if r.already]

    @property
    def repeated(self) -> list[ImportRow]:
        return [r for r in self.rows if r.repeated]


def _show(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:59] + "…"


def _split(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;\n|]", text) if p.strip()]


def _match_words(text: str, words: dict[str, str]) -> tuple[list[str], list[str]]:
    """Known keys named in a cell and the parts not understood.

    Parts are separated by semicolons or new lines, and then by commas, because some
    names (such as the first aim of the general duty) contain a comma themselves.
    """
    keys: list[str] = []
    unknown: list[str] = []
    for part in _split(text):
        pieces = [p.strip() for p in part.split(",")]
        start = 0
        while start < len(pieces):
            # The longest run of comma-separated pieces that names something known.
            for end in range(len(pieces), start, -1):
                phrase = word_key(", ".join(pieces[start:end]))
                if phrase in words:
                    keys.append(words[phrase])
                    start = end
                    break
            else:
                if pieces[start]:
                    unknown.append(pieces[start])
                start += 1
    return keys, unknown


def _limit(name: str) -> int | None:
    if name in TEXT_LIMITS:
        return TEXT_LIMITS[name]
    try:
        return limit(getattr(Action, name))
    except TypeError:  # a column with no limit
        return None


def check_row(
    number: int, cells: dict[str, str], words: dict[str, str] | None = None
) -> tuple[dict, list[str]]:
    """An action's values from a row's cells, and the row's problems in plain words.

    ``words`` are the organisation's own status words (word → status, "" for none). When
    they are given, a status word that is neither the portal's nor one of them is not a
    problem of the row: its ``status_word`` is asked about once for the whole file.
    """
    problems: list[str] = []
    values: dict = {name: cells.get(name, "") for name in TEXT_FIELDS}
    if not values["task"]:
        problems.append(f"Row {number}: the task is empty")
    for name in ("objective", "area", "focus_point", *TEXT_FIELDS):
        text = cells.get(name, "")
        limit = _limit(name)
        if limit and len(text) > limit:
            problems.append(
                f"Row {number}: the {LENGTH_NAMES[name]} is {len(text):,} characters long; "
                f"it must be {limit:,} or fewer"
            )
    try:
        values["target_date"] = services.parse_target(values["target_text"])
    except ValueError:
        values["target_date"] = None
        problems.append(
            f"Row {number}: target date ‘{_show(values['target_text'])}’ is not a real date"
        )
    status_text = cells.get("status", "")
    values["status_word"] = ""
    if word_key(status_text) in NO_STATUS_WORDS:
        values["status"] = None
    elif word_key(status_text) in STATUS_WORDS:
        values["status"] = STATUS_WORDS[word_key(status_text)]
    elif words is not None and vocabulary.word_key(status_text) in words:
        values["status"] = words[vocabulary.word_key(status_text)] or None
        values["status_word"] = status_text
    elif words is not None and len(vocabulary.word_key(status_text)) <= vocabulary.WORD_LENGTH:
        values["status"] = None
        values["status_word"] = status_text
    elif words is not None:
        values["status"] = None
        problems.append(
            f"Row {number}: status ‘{_show(status_text)}’ is too long to be a status: keep "
            f"it to {vocabulary.WORD_LENGTH} characters, or do not import the column"
        )
    else:
        values["status"] = None
        problems.append(f"Row {number}: status ‘{_show(status_text)}’ is not one of {STATUS_NAMES}")
    aims_text = cells.get("psed_aims", "")
    if word_key(aims_text) in ALL_WORDS:
        values["psed_aims"] = list(PSED_AIMS)
    elif word_key(aims_text) in NONE_WORDS:
        values["psed_aims"] = []
    else:
        keys, unknown = _match_words(aims_text, PSED_WORDS)
        values["psed_aims"] = [k for k in PSED_AIMS if k in keys]
        for part in unknown:
            problems.append(
                f"Row {number}: PSED aim ‘{_show(part)}’ is not one of the three aims of the "
                f"general duty: {'; '.join(PSED_AIMS.values())} (or All)"
            )
    characteristics_text = cells.get("characteristics", "")
    if word_key(characteristics_text) in ALL_WORDS:
        values["characteristics"] = [ALL_CHARACTERISTICS]
    elif word_key(characteristics_text) in NONE_WORDS:
        values["characteristics"] = []
    else:
        keys, unknown = _match_words(characteristics_text, CHARACTERISTIC_WORDS)
        values["characteristics"] = [k for k in CHARACTERISTICS if k in keys]
        for part in unknown:
            problems.append(
                f"Row {number}: protected characteristic ‘{_show(part)}’ is not one of "
                f"{', '.join(CHARACTERISTICS.values())} (or All)"
            )
    return values, problems


def preview(upload: PendingImport) -> Preview:
    """Every row of the upload checked, and which are new or already in the plan."""
    table = files.table_of(upload)
    mapping = upload.mapping or guess_mapping(table.headings)
    result = Preview()
    default = None
    if upload.default_objective == NEW_OBJECTIVE or not upload.default_objective:
        result.default_title = upload.new_objective or "Imported actions"
    else:
        default = db.session.scalar(
            select(Objective).where(Objective.id == parse_id(upload.default_objective))
        )
        if default is None:
            result.errors.append(
                "The objective chosen for rows that name none has been deleted: choose another"
            )
            return result
        result.default_title = default.title
    existing = {same(o.title): o for o in db.session.scalars(select(Objective))}
    in_plan = {
        (objective_id, same(task))
        for objective_id, task in db.session.execute(select(Action.objective_id, Action.task))
    }
    seen: set[tuple[str, str]] = set()
    carried = ""
    words = vocabulary.remembered_words()
    found_words: dict[str, vocabulary.StatusWord] = {}
    people = vocabulary.People()
    areas = vocabulary.Areas()
    for number, row in table.rows:
        cells: dict[str, str] = {}
        for column, name in enumerate(mapping):
            if name != "ignore":
                cells[name] = table.cell(row, column)
        if not any(cells.values()):
            continue
        # A spreadsheet often names an objective once, above the actions under it (or in
        # merged cells): a row without one belongs to the objective above it.
        if "objective" in cells:
            carried = cells["objective"] or carried
            if not any(v for k, v in cells.items() if k != "objective"):
                continue  # a heading row: the objective of the rows below it
        title = carried or result.default_title
        values, problems = check_row(number, cells, words)
        item = ImportRow(number=number, objective=title, values=values)
        if values["status_word"]:
            key = vocabulary.word_key(values["status_word"])
            word = found_words.setdefault(
                key, vocabulary.StatusWord(text=values["status_word"], key=key, chosen=None)
            )
            if key in words:
                word.chosen = vocabulary.choice_of(words[key])
                item.status_shown = f"{word.meaning} (from “{values['status_word']}”)"
            else:
                item.status_shown = f"Not yet chosen: “{values['status_word']}”"
            word.rows += 1
        else:
            item.status_shown = STATUSES.get(values["status"] or "", "No status recorded")
        person = people.match(cells.get("lead_user", "")) or people.match(values["lead_officer"])
        values["lead_user_id"] = person.id if person is not None else None
        item.lead_name = person.name if person is not None else ""
        if len(cells.get("area", "")) <= TEXT_LIMITS["area"]:
            item.area = areas.area(cells.get("area", ""))
        if len(cells.get("focus_point", "")) <= TEXT_LIMITS["focus_point"]:
            try:
                item.point = areas.point(cells.get("focus_point", ""), item.area)
            except ValueError:
                problems.append(
                    f"Row {number}: focus point ‘{_show(cells['focus_point'])}’ is not one of "
                    "the organisation’s: name its role or focus area in the same row"
                )
        if (
            item.area is not None
            and item.area.id is None
            and item.area.label not in result.new_areas
        ):
            result.new_areas.append(item.area.label)
        result.errors.extend(problems)
        key = (same(title), same(values["task"]))
        target = default if not carried and default is not None else existing.get(same(title))
        if key in seen:
            item.repeated = True
        elif target is not None and (target.id, same(values["task"])) in in_plan:
            item.already = True
        seen.add(key)
        if target is None and title not in result.new_objectives:
            if same(title) not in {same(t) for t in result.new_objectives}:
                result.new_objectives.append(title)
        result.rows.append(item)
    if not result.rows:
        result.errors.append("None of the rows has anything in the columns chosen to import")
    result.status_words = list(found_words.values())
    if len(result.status_words) > vocabulary.MAX_STATUS_WORDS:
        result.errors.append(
            f"The status column holds {len(result.status_words)} different wordings: it looks "
            "like notes of progress rather than statuses. Change the columns and choose “Do "
            "not import this column” for it, or keep to one status word in each row."
        )
        result.status_words = []
    elif result.unchosen_words:
        listed = ", ".join(f"‘{_show(w.text)}’" for w in result.unchosen_words)
        result.errors.append(f"Choose what each status word means, below the rows: {listed}")
    return result


def save_status_words(upload: PendingImport, choices: list[str]) -> None:
    """Keep what each status word of the upload means, for this and later imports;
    services.ValidationError, with nothing kept, if a choice is missing or wrong."""
    vocabulary.save_status_words(preview(upload).status_words, choices)

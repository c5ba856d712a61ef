"""The protected characteristics a measure may be broken down by, and their categories.

The categories are those of the 2021 Census for England and Wales (Office for National
Statistics), so that an organisation's figures can be set beside the community profile
loaded from the census (see portal/monitoring/data/census2021_SOURCES.md):

* age: the broad bands of the Census 2021 first results (the finest bands held for every
  district; finer bands were not found, see the sources note);
* sex: TS009; ethnic group: the 5 high-level groups of TS021; disability: TS038 (under the
  Equality Act); religion or belief: TS030; sexual orientation: TS077; gender identity:
  the 7 answers of "Gender identity (8 categories)" (TS070/TS078), less "does not apply";
* marriage and civil partnership: the 5 top-level categories of legal partnership status,
  TS002;
* pregnancy and maternity: not asked by the census, so "yes" and "no".

Each list is kept word for word as the census publishes it, because the community
profile is matched on these words.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Characteristic:
    key: str
    label: str
    categories: tuple[str, ...]
    census_topic: str | None
    universe: str


CHARACTERISTICS: dict[str, Characteristic] = {
    c.key: c
    for c in [
        Characteristic(
            "age",
            "Age",
            ("Aged 0 to 14", "Aged 15 to 64", "Aged 65 and over"),
            "age",
            "all usual residents",
        ),
        Characteristic("sex", "Sex", ("Female", "Male"), "sex", "all usual residents"),
        Characteristic(
            "ethnic_group",
            "Ethnic group",
            (
                "Asian, Asian British or Asian Welsh",
                "Black, Black British, Black Welsh, Caribbean or African",
                "Mixed or Multiple ethnic groups",
                "White",
                "Other ethnic group",
            ),
            "ethnic_group",
            "all usual residents",
        ),
        Characteristic(
            "disability",
            "Disability",
            ("Disabled under the Equality Act", "Not disabled under the Equality Act"),
            "disability",
            "all usual residents",
        ),
        Characteristic(
            "religion",
            "Religion or belief",
            (
                "No religion",
                "Christian",
                "Buddhist",
                "Hindu",
                "Jewish",
                "Muslim",
                "Sikh",
                "Other religion",
                "Not answered",
            ),
            "religion",
            "all usual residents",
        ),
        Characteristic(
            "sexual_orientation",
            "Sexual orientation",
            (
                "Straight or Heterosexual",
                "Gay or Lesbian",
                "Bisexual",
                "All other sexual orientations",
                "Not answered",
            ),
            "sexual_orientation",
            "usual residents aged 16 and over",
        ),
        Characteristic(
            "gender_identity",
            "Gender identity",
            (
                "Gender identity the same as sex registered at birth",
                "Gender identity different from sex registered at birth but no specific "
                "identity given",
                "Trans woman",
                "Trans man",
                "Non-binary",
                "All other gender identities",
                "Not answered",
            ),
            "gender_identity",
            "usual residents aged 16 and over",
        ),
        Characteristic(
            "marriage",
            "Marriage and civil partnership",
            (
                "Never married and never registered a civil partnership",
                "Married or in a registered civil partnership",
                "Separated, but still legally married or still legally in a civil partnership",
                "Divorced or civil partnership dissolved",
                "Widowed or surviving civil partnership partner",
            ),
            "legal_partnership",
            "usual residents aged 16 and over",
        ),
        Characteristic(
            "pregnancy",
            "Pregnancy and maternity",
            ("Yes", "No"),
            None,
            "",
        ),
    ]
}

CHOICES = [(c.key, c.label) for c in CHARACTERISTICS.values()]


def characteristic(key: str | None) -> Characteristic | None:
    """The characteristic called ``key``, or None for no breakdown."""
    return CHARACTERISTICS.get(key or "")


def by_census_topic(topic: str) -> Characteristic | None:
    """The characteristic a census file's topic column stands for."""
    return next((c for c in CHARACTERISTICS.values() if c.census_topic == topic), None)

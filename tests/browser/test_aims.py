"""The joint aims framework: a lead keeps it, member organisations read it and link to it.

Also every organisation's home page and both partnerships' home pages, checked with axe.

The lead's journey changes only the copy it makes of 2012–16, so the framework from the
source document stays word for word for every other test in the session.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .support import assert_accessible

pytestmark = pytest.mark.browser

WEST_KENT = "West Kent Equality Partnership"
KENT_NETWORK = "Kent Equality Network"
WEST_KENT_TITLE = "Our Aims and Commitments for 2012-16"
# Exact phrases of /work/shared/seeds/west-kent-equality-partnership-aims-2012-16.txt.
SEED_PHRASES = (
    "This document sets out the aims and commitments for the three West Kent authorities "
    "– Sevenoaks District Council, Tonbridge & Malling Borough Council and Tunbridge Wells "
    "Borough Council - for 2012-16.",
    "As a Community Leader we will:",
    "Work together to find and reduce the effects of reduced financial resources by:",
    "Asking for the views of local people, groups and representatives and responding to them;",
    "We will record, monitor and respond to 'hate' incidents.",
    "We will make sure customers don't need to return to us to understand our webpages, "
    "letters, emails or forms.",
    "Make sure that our employment policies are fit for purpose and work together to turn "
    "these into practices which:",
    "We will develop an action plan setting out how we will deliver our aims and commitments.",
    "Implementation of these aims and commitments will be monitored by the Corporate "
    "Equalities Monitoring Groups at each Council.",
)
HATE_AIM = "We will record, monitor and respond to 'hate' incidents."

TENANTS = {
    "sevenoaks": "Sevenoaks District Council",
    "tonbridge-malling": "Tonbridge & Malling Borough Council",
    "tunbridge-wells": "Tunbridge Wells Borough Council",
    "west-kent-housing": "West Kent Housing Association",
    "maidstone": "Maidstone Borough Council",
    "thanet": "Thanet District Council",
    "gentoo": "Gentoo Group",
}


def _expect_seed_text(scope, *, controls: bool = False) -> None:
    """Every phrase is shown word for word: as an element's whole text, or, on the lead's
    pages, where the controls follow the text in the same list entry, as part of one."""
    for phrase in SEED_PHRASES:
        if controls:
            expect(scope).to_contain_text(phrase)
        else:
            expect(scope.get_by_text(phrase, exact=True)).to_be_visible()


def _banner(page):
    return page.locator(".govuk-notification-banner--success")


def test_a_lead_keeps_the_framework_and_starts_the_next_period(sign_in):
    page = sign_in("lead@west-kent.demo")
    expect(page).to_have_url(re.compile(r"/p/west-kent/$"))
    assert_accessible(page)

    page.get_by_role("main").get_by_role("link", name="Joint aims", exact=True).click()
    expect(page).to_have_url(re.compile(r"/p/west-kent/aims/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Joint aims")
    periods = page.get_by_role("table", name="Plan periods")
    expect(periods.get_by_role("row").filter(has_text="2012–16")).to_contain_text(
        "Shown to members"
    )
    assert_accessible(page)

    # The 2012–16 framework, word for word.
    periods.get_by_role("link", name="2012–16").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(WEST_KENT_TITLE)
    _expect_seed_text(page.get_by_role("main"), controls=True)
    aims = page.get_by_role("table", name="Joint aims: As a Community Leader we will:")
    expect(aims.get_by_role("row").nth(2)).to_contain_text(HATE_AIM)
    expect(aims.get_by_role("row").nth(2)).to_contain_text(
        "We will make data on reported cases available"
    )
    assert_accessible(page)

    # Copied into a draft for 2016–20.
    page.get_by_role("button", name="Copy into the next plan period").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Copy 2012–16 into the next plan period"
    )
    expect(page.get_by_label("Title")).to_have_value("Our Aims and Commitments for 2016-20")
    expect(page.get_by_label("Start year")).to_have_value("2016")
    expect(page.get_by_label("End year")).to_have_value("2020")
    assert_accessible(page)
    page.get_by_role("button", name="Copy into a new plan period").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Our Aims and Commitments for 2016-20"
    )
    expect(_banner(page)).to_contain_text("2012–16 has been copied into a draft for 2016–20")
    expect(
        page.get_by_text("Member organisations do not see this plan period yet.")
    ).to_be_visible()
    _expect_seed_text(page.get_by_role("main"), controls=True)
    period_url = page.url
    assert_accessible(page)

    # Changing an aim: the plain-language check reads the text being edited.
    page.get_by_role("link", name="Change joint aim 1 of role 1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change joint aim")
    field = page.get_by_label("Joint aim")
    expect(field).to_have_value(
        "We will make sure our events and activities are open to all and raise awareness."
    )
    check = page.locator("#readability")
    expect(check.get_by_role("heading", name="Plain-language check")).to_be_visible()
    expect(check).to_contain_text("15 words")
    assert_accessible(page)
    field.fill("We will make sure our events and activities are open to everyone.")
    page.get_by_role("button", name="Save joint aim").click()
    # Back at the changed aim on the period page.
    expect(page).to_have_url(re.compile(re.escape(period_url) + r"#aim-\d+$"))
    expect(_banner(page)).to_contain_text("The joint aim has been saved")
    aims = page.get_by_role("table", name="Joint aims: As a Community Leader we will:")
    expect(aims.get_by_role("row").nth(1)).to_contain_text(
        "We will make sure our events and activities are open to everyone."
    )
    assert_accessible(page)

    # An empty aim is refused, and the summary's link takes you to the field.
    page.get_by_role("link", name="Add a joint aim to role 1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Add a joint aim to “As a Community Leader we will:”"
    )
    assert_accessible(page)
    page.get_by_role("button", name="Save joint aim").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator(".govuk-error-message")).to_contain_text("Enter the joint aim")
    assert_accessible(page)
    summary.get_by_role("link", name="Enter the joint aim").click()
    expect(page.get_by_label("Joint aim")).to_be_focused()
    page.get_by_label("Joint aim").fill("We will report every hate incident to the police.")
    page.get_by_role("button", name="Save joint aim").click()
    expect(_banner(page)).to_contain_text("The joint aim has been added")
    aims = page.get_by_role("table", name="Joint aims: As a Community Leader we will:")
    expect(aims.get_by_role("row")).to_have_count(4)
    expect(aims.get_by_role("row").nth(3)).to_contain_text("No measures yet.")
    assert_accessible(page)

    # A measure for the new aim.
    page.get_by_role("link", name="Add a measure to joint aim 3 of role 1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a measure")
    assert_accessible(page)
    page.get_by_label("Measure").fill("We will publish how many incidents we passed on.")
    page.get_by_role("button", name="Save measure").click()
    expect(_banner(page)).to_contain_text("The measure has been added")
    aims = page.get_by_role("table", name="Joint aims: As a Community Leader we will:")
    expect(aims.get_by_role("row").nth(3)).to_contain_text(
        "We will publish how many incidents we passed on."
    )
    assert_accessible(page)

    # The new aim moves up above the hate incidents aim.
    page.get_by_role("button", name="Move up joint aim 3 of role 1", exact=True).click()
    aims = page.get_by_role("table", name="Joint aims: As a Community Leader we will:")
    expect(aims.get_by_role("row").nth(2)).to_contain_text(
        "We will report every hate incident to the police."
    )
    expect(aims.get_by_role("row").nth(3)).to_contain_text(HATE_AIM)
    assert_accessible(page)

    # Shown to member organisations.
    page.get_by_role("button", name="Show to member organisations").click()
    expect(_banner(page)).to_contain_text(
        "Plan period 2016–20 is now shown to member organisations"
    )
    expect(page.get_by_text("Member organisations can read this plan period.")).to_be_visible()
    expect(page.get_by_role("button", name="Show to member organisations")).to_have_count(0)
    assert_accessible(page)

    page.get_by_role("link", name="Back to plan periods").click()
    periods = page.get_by_role("table", name="Plan periods")
    expect(periods.get_by_role("row").filter(has_text="2016–20")).to_contain_text(
        "Shown to members"
    )
    expect(periods.get_by_role("row").filter(has_text="2012–16")).to_contain_text(
        "Shown to members"
    )
    assert_accessible(page)


def test_a_member_reads_the_aims_and_links_a_commitment_to_one(sign_in):
    page = sign_in("officer@sevenoaks.demo")
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/$"))
    assert_accessible(page)

    page.get_by_role("main").get_by_role("link", name="Joint aims", exact=True).click()
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/aims/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Joint aims")
    expect(page.get_by_role("heading", level=2, name=WEST_KENT)).to_be_visible()
    framework = page.get_by_role("region", name=f"{WEST_KENT_TITLE} (2012–16)")
    _expect_seed_text(framework)
    # Members read; only the partnership's leads change the framework.
    main = page.get_by_role("main")
    for name in ("Change", "Delete", "Add a joint aim", "Add a measure"):
        expect(main.get_by_role("link", name=re.compile(f"^{name}"))).to_have_count(0)
    expect(main.get_by_role("button")).to_have_count(0)
    assert_accessible(page)

    framework.get_by_role("link", name=HATE_AIM, exact=True).click()
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/aims/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(HATE_AIM)
    expect(page).to_have_title(re.compile(rf"^Joint aim: {re.escape(HATE_AIM)} – Sevenoaks"))
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"{WEST_KENT}, 2012–16: As a Community Leader we will:")
    expect(
        main.get_by_role("listitem").filter(has_text="We will deal with cases properly.")
    ).to_be_visible()
    expect(main).to_contain_text(
        "None of Sevenoaks District Council's commitments is linked to this aim yet."
    )
    expect(main.get_by_role("link", name="commitments page")).to_be_visible()
    aim_url = page.url
    assert_accessible(page)

    # Sevenoaks has no commitments yet: the officer adds one that serves this aim.
    page.get_by_role("navigation", name="Pages for Sevenoaks District Council").get_by_role(
        "link", name="Commitments"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Commitments")
    assert_accessible(page)
    page.get_by_role("button", name="Add a commitment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a commitment")
    assert_accessible(page)
    text = "We will keep a register of hate incidents and report on it every year."
    page.get_by_label("Commitment", exact=True).fill(text)
    page.get_by_role("checkbox", name=f"{HATE_AIM} (2012–16)", exact=True).check()
    page.get_by_role("button", name="Save commitment").click()
    expect(page).to_have_url(re.compile(r"/t/sevenoaks/plan/commitments$"))
    expect(_banner(page)).to_contain_text("Commitment 1 has been added")
    item = page.get_by_role("main").get_by_role("listitem").filter(has_text=text)
    expect(item).to_contain_text("Serves joint aims:")
    expect(item.get_by_role("link", name=HATE_AIM)).to_be_visible()
    assert_accessible(page)

    # Changed: the link stays, and the aim's page lists the commitment.
    page.get_by_role("link", name="Change commitment 1", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change commitment 1")
    expect(page.get_by_role("checkbox", name=f"{HATE_AIM} (2012–16)", exact=True)).to_be_checked()
    assert_accessible(page)
    changed = "We will keep a register of hate incidents and report on it twice a year."
    page.get_by_label("Commitment", exact=True).fill(changed)
    page.get_by_role("button", name="Save commitment").click()
    expect(_banner(page)).to_contain_text("Commitment 1 has been saved")
    item = page.get_by_role("main").get_by_role("listitem").filter(has_text=changed)
    expect(item).to_contain_text("Serves joint aims:")
    assert_accessible(page)

    item.get_by_role("link", name=HATE_AIM).click()
    expect(page).to_have_url(aim_url)
    expect(
        page.get_by_role("main").get_by_role("listitem").filter(has_text=changed)
    ).to_be_visible()
    assert_accessible(page)


def test_an_organisation_outside_any_partnership_has_no_joint_aims(sign_in):
    page = sign_in("officer@gentoo.demo")
    expect(page).to_have_url(re.compile(r"/t/gentoo/$"))
    assert_accessible(page)
    page.get_by_role("navigation", name="Pages for Gentoo Group").get_by_role(
        "link", name="Joint aims"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Joint aims")
    expect(page.get_by_role("main")).to_contain_text(
        "Gentoo Group is not in a partnership on this portal, so it has no joint aims."
    )
    expect(page.get_by_role("main").get_by_role("table")).to_have_count(0)
    assert_accessible(page)


def test_a_member_of_two_partnerships_sees_both_frameworks(sign_in):
    page = sign_in("officer@tonbridge-malling.demo")
    expect(page).to_have_url(re.compile(r"/t/tonbridge-malling/$"))
    assert_accessible(page)
    # The home page links to each partnership's framework.
    page.get_by_role("link", name=f"{WEST_KENT}: joint aims").click()
    expect(page).to_have_url(re.compile(r"/t/tonbridge-malling/aims/#partnership-west-kent$"))
    for name in (KENT_NETWORK, WEST_KENT):
        expect(page.get_by_role("heading", level=2, name=name)).to_be_visible()
    contents = page.get_by_role("navigation", name="Partnerships on this page")
    expect(contents.get_by_role("link")).to_have_text([KENT_NETWORK, WEST_KENT])
    _expect_seed_text(page.get_by_role("region", name=f"{WEST_KENT_TITLE} (2012–16)"))
    network = page.get_by_role("region", name=re.compile(r"^Shared equality aims 2017-21"))
    expect(network).to_contain_text("We will make our information easy to find and understand.")
    expect(network.get_by_text("Demonstration data").first).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize("slug", sorted(TENANTS))
def test_every_organisation_home_page(sign_in, slug):
    page = sign_in(f"officer@{slug}.demo")
    expect(page).to_have_url(re.compile(rf"/t/{slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TENANTS[slug])
    expect(
        page.get_by_role("main").get_by_role("link", name="Joint aims", exact=True)
    ).to_be_visible()
    assert_accessible(page)


@pytest.mark.parametrize(
    ("slug", "name", "members"),
    [
        ("west-kent", WEST_KENT, 4),
        ("kent-network", KENT_NETWORK, 3),
    ],
)
def test_each_partnership_home_page(sign_in, slug, name, members):
    page = sign_in(f"lead@{slug}.demo")
    expect(page).to_have_url(re.compile(rf"/p/{slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(name)
    table = page.get_by_role("table", name="Member organisations")
    expect(table.get_by_role("row")).to_have_count(members + 1)
    assert_accessible(page)

"""Display conditions made in the survey builder: saved, checked like the YAML's, obeyed by the survey."""
import re
from urllib.parse import parse_qs, urlparse

import pytest

from surveyapp.models import Response
from surveyapp.services.pages import survey_pages
from surveyapp.services.responses import codebook_of, not_asked_in

from .test_builder import builder_post, create, researcher, survey_named  # noqa: F401 (fixture)
from ..survey.helpers import answer_for, post_page

SQ = ["SQ01", "SQ02"]


@pytest.fixture
def study(client, db, researcher):  # noqa: F811 (the fixture imported above)
    create(client, instruments=("profile", "servqual"))
    response = builder_post(client, "study", items_profile=["PR_CHANNEL"], items_servqual=SQ,
                            order_profile="1", order_servqual="2")
    assert response.status_code == 302, response.get_data(as_text=True)
    return survey_named(db, "study")


def _post(client, slug: str, **changes):
    """``builder_post`` with the condition rows' drop-downs as the browser sends them."""
    page = client.get(f"/admin/surveys/{slug}/edit").get_data(as_text=True)
    selects = {}
    for name, body in re.findall(r'<select[^>]*name="(conditions-[^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"', body)
        selects[name] = chosen.group(1) if chosen else re.search(r'<option value="([^"]*)"', body).group(1)
    return builder_post(client, slug, **{**selects, **changes})


def _condition(number: int = 0, **fields) -> dict[str, str]:
    return {f"conditions-{number}-{key}": value for key, value in fields.items()}


def test_condition_saved_shown_and_offered_again(client, db, study):
    response = _post(client, "study", **_condition(
        target="section:servqual", variable="PR_CHANNEL", operator="in", values="1，2"))
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    assert survey_named(db, "study").design["conditions"] == [
        {"target": "section:servqual", "show_if": {"variable": "PR_CHANNEL", "in": [1, 2]}}]
    page = client.get("/admin/surveys/study/edit").get_data(as_text=True)
    assert "<code>section:servqual: PR_CHANNEL in 1, 2</code>" in page
    # The saved condition fills its row again (and saving unchanged keeps it).
    assert re.search(r'<option selected value="section:servqual">', page)
    assert 'name="conditions-0-values" size="12" type="text" value="1, 2"' in page
    assert _post(client, "study").status_code == 302
    db.session.expire_all()
    assert len(survey_named(db, "study").design["conditions"]) == 1
    # The preview notes the condition on each question it hides.
    preview = client.get("/admin/surveys/study/preview?p=2").get_data(as_text=True)
    assert "PR_CHANNEL in 1, 2" in preview
    # Emptying the row removes the condition.
    assert _post(client, "study", **_condition(target="", variable="", values="")).status_code == 302
    db.session.expire_all()
    assert "conditions" not in survey_named(db, "study").design


@pytest.mark.parametrize("fields,message", [
    ({"target": "PR_CHANNEL", "variable": "SQ01_E", "operator": "equals", "values": "5"},
     "Condition 1: PR_CHANNEL: show_if names &#39;SQ01_E&#39;, which is not a column of a question "
     "before it (columns: none)"),
    ({"target": "SQ02", "variable": "PR_CHANNEL", "operator": "equals", "values": "9"},
     "Condition 1: SQ02: show_if value(s) 9 are not options of PR_CHANNEL (1, 2, 3, 4)"),
    ({"target": "SQ02", "variable": "SQ01_E", "operator": "range", "values": "8..9"},
     "Condition 1: SQ02: show_if range [8, 9] holds no point of SQ01_E&#39;s scale 1..7"),
    ({"target": "SQ02", "variable": "SQ01_E", "operator": "range", "values": "6, 2"},
     "Condition 1: SQ02: show_if range [6, 2] is empty"),
    ({"target": "SQ02", "variable": "PR_CHANNEL", "operator": "in", "values": "one"},
     "Condition 1: Give the value(s) as numbers"),
    ({"target": "SQ02", "variable": "PR_CHANNEL", "operator": "equals", "values": "1, 2"},
     "Condition 1: &#39;Equal to&#39; takes one value; use &#39;one of&#39; for several."),
    ({"target": "SQ09", "variable": "PR_CHANNEL", "operator": "equals", "values": "1"},
     "Condition 1: SQ09 is not a question or section of this survey."),
])
def test_bad_conditions_are_refused_with_a_clear_message(client, db, study, fields, message):
    response = _post(client, "study", **_condition(**fields))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message.replace("(columns: none)", "").rstrip() in page, page[page.find("flash"):][:1500]
    assert "Nothing was saved" in page
    db.session.expire_all()
    assert "conditions" not in survey_named(db, "study").design


def test_one_condition_per_question(client, study):
    page = _post(client, "study", **_condition(0, target="SQ02", variable="PR_CHANNEL",
                                                      operator="equals", values="1"),
                        **_condition(1, target="SQ02", variable="PR_CHANNEL", operator="equals",
                                     values="2")).get_data(as_text=True)
    assert "Condition 2: SQ02 has a condition already" in page


def _take(client, survey, channel: int) -> list[int]:
    """Answer the survey as a respondent choosing ``channel``; the page numbers visited."""
    pages = survey_pages(survey.current_version)
    visited, number = [], 1
    while True:
        visited.append(number)
        page = pages[number - 1]
        data = {} if page.is_final else {v.name: (str(channel) if v.name == "PR_CHANNEL"
                                                   else answer_for(v)) for v in page.variables}
        response = post_page(client, survey.slug, number, data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        target = parse_qs(urlparse(response.headers["Location"]).query).get("p")
        if target is None:  # the thank-you page
            return visited
        number = int(target[0])


def test_builder_condition_hides_and_shows_the_section_for_respondents(app, client, db, study):
    assert _post(client, "study", **_condition(
        target="section:servqual", variable="PR_CHANNEL", operator="equals",
        values="1")).status_code == 302
    assert client.post("/admin/surveys/study/open").status_code == 302
    db.session.expire_all()
    survey = survey_named(db, "study")
    codebook = codebook_of(survey.current_version)
    hidden = {v.name for v in codebook if v.instrument == "servqual"}
    assert hidden and all(codebook[name].show_if == {"variable": "PR_CHANNEL", "equals": 1}
                          for name in hidden)
    pages = survey_pages(survey.current_version)
    servqual_pages = {n for n, page in enumerate(pages, start=1)
                      if any(v.name in hidden for v in page.variables)}

    client.post("/auth/logout")
    # An app user (channel 3) never sees SERVQUAL: stored as not asked.
    visited = _take(client, survey, channel=3)
    assert not servqual_pages & set(visited)
    stored = db.session.execute(db.select(Response).order_by(Response.id.desc())).scalars().first()
    assert stored.status == "complete"
    assert not_asked_in(codebook, stored.answers) == hidden
    # A branch customer (channel 1), in a new browser, is asked it.
    visited = _take(app.test_client(), survey, channel=1)
    assert servqual_pages <= set(visited)
    stored = db.session.execute(db.select(Response).order_by(Response.id.desc())).scalars().first()
    assert not_asked_in(codebook, stored.answers) == set()

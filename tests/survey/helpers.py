"""Driving the paged survey through the Flask test client."""
from __future__ import annotations

from surveyapp.services.pages import survey_pages


def answer_for(variable) -> str:
    """A valid answer: the scale's top point, the first option, 20 of 100 points."""
    scale = variable.scale
    if scale["type"] == "rating":
        return str(scale["max"])
    if scale["type"] == "choice":
        return str(scale["options"][0]["value"])
    return str(scale["total"] // 5)


def page_answers(page) -> dict[str, str]:
    return {v.name: answer_for(v) for v in page.variables}


def post_page(client, slug: str, number: int, data: dict, action: str = "next", token: str | None = None):
    form = {"page": str(number), "action": action, **data}
    url = f"/s/{slug}" + (f"?t={token}" if token else "")
    if token:
        form["t"] = token
    # English, so tests can look for the source strings.
    return client.post(url, data=form, headers={"Accept-Language": "en"})


def complete_survey(client, survey, token: str | None = None, final: dict | None = None):
    """Answer every page with :func:`answer_for`; returns the last HTTP response."""
    pages = survey_pages(survey.current_version)
    response = None
    for number, page in enumerate(pages, start=1):
        data = (final or {}) if page.is_final else page_answers(page)
        response = post_page(client, survey.slug, number, data, token=token)
        assert response.status_code == 302, (page.key, response.data[:2000])
    return response

"""The welcome page before the first question: time estimate, texts, languages, "welcome back"."""
import re

from surveyapp.services.pages import survey_pages
from surveyapp.services.responses import codebook_of
from surveyapp.services.welcome import (SECONDS_FINAL_PAGE, SECONDS_PER_QUESTION,
                                        SECONDS_PER_RATING, estimated_minutes)

from .helpers import page_answers, post_page


def test_estimate_counts_ratings_choices_and_the_closing_page(seeded_survey):
    codebook = codebook_of(seeded_survey.current_version)
    by_type: dict[str, int] = {}
    for variable in codebook:
        by_type[variable.scale["type"]] = by_type.get(variable.scale["type"], 0) + 1
    # The demo: 5 profile choices, 20 KANO choices, allocation numbers; the rest ratings.
    assert by_type["choice"] == 5 + 20
    seconds = (by_type["rating"] * SECONDS_PER_RATING
               + (len(codebook) - by_type["rating"]) * SECONDS_PER_QUESTION + SECONDS_FINAL_PAGE)
    assert estimated_minutes(codebook) == -(-seconds // 60)
    # Pew's ~10 s a stand-alone question and >=10 battery rows a minute: the demo's
    # ~150 answers come to 8-20 minutes, the range the issue timed by hand (8-12).
    assert 8 <= estimated_minutes(codebook) <= 20


def test_survey_link_opens_on_the_welcome_page(client, seeded_survey):
    page = client.get(f"/s/{seeded_survey.slug}", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="welcome"' in html
    minutes = estimated_minutes(codebook_of(seeded_survey.current_version))
    count = len(survey_pages(seeded_survey.current_version))
    assert f"About {minutes} minutes" in html and f"{count} pages" in html
    assert "Your privacy" in html and "voluntary" in html
    assert re.search(rf'href="/s/{seeded_survey.slug}\?p=1"[^>]*>Start the survey', html) \
        or re.search(rf'id="start" href="/s/{seeded_survey.slug}\?p=1"', html)
    assert f'href="/s/{seeded_survey.slug}?lang=zh"' in html
    zh = client.get(f"/s/{seeded_survey.slug}?lang=zh").get_data(as_text=True)
    assert f"约 {minutes} 分钟" in zh and "开始答题" in zh
    assert "surveyapp_client=" in page.headers["Set-Cookie"]


def test_researchers_welcome_texts_replace_the_standard_ones(client, db, seeded_survey):
    design = dict(seeded_survey.current_version.design)
    design["welcome"] = {"purpose": {"en": "Help us shorten queues."},
                         "privacy": {"en": "Answers are kept for one year.", "zh": "答案保存一年。"}}
    seeded_survey.current_version.design = design
    db.session.commit()
    en = client.get(f"/s/{seeded_survey.slug}?lang=en").get_data(as_text=True)
    assert "Help us shorten queues." in en and "Answers are kept for one year." in en
    zh = client.get(f"/s/{seeded_survey.slug}?lang=zh").get_data(as_text=True)
    # No Chinese purpose typed: the English one rather than nothing; the Chinese privacy text.
    assert "答案保存一年。" in zh and "Help us shorten queues." in zh


def test_a_returning_respondent_is_welcomed_back_at_the_page_reached(client, seeded_survey):
    pages = survey_pages(seeded_survey.current_version)
    for number in (1, 2, 3):
        assert post_page(client, seeded_survey.slug, number, page_answers(pages[number - 1])).status_code == 302
    html = client.get(f"/s/{seeded_survey.slug}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert f"Welcome back! You were on page 4 of {len(pages)}" in html
    assert f'id="start" href="/s/{seeded_survey.slug}?p=4"' in html and "Continue" in html

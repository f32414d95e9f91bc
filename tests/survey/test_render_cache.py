"""The answer path's shortcuts give exactly what the uncached form and macro give."""
from __future__ import annotations

import pytest
from flask import get_template_attribute
from werkzeug.datastructures import MultiDict

from surveyapp.i18n import text_in
from surveyapp.questionnaire.forms import NOT_APPLICABLE, build_form, form_class
from surveyapp.questionnaire.render import QuestionSkeleton, question_renderer
from surveyapp.services.pages import survey_pages


def _values(variable) -> list[str | None]:
    """Every answer a field can hold, plus none and one that is no option."""
    scale = variable.scale
    if scale["type"] == "rating":
        values = [str(point) for point in range(int(scale["min"]), int(scale["max"]) + 1)]
        if scale.get("not_applicable"):
            values.append(NOT_APPLICABLE)
    elif scale["type"] == "choice":
        values = [str(option["value"]) for option in scale["options"]]
    else:
        values = ["0", "7", str(scale["total"]), "<b>"]
    return [None, *values, "99.5"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_question_of_the_demo_renders_as_the_macro_does(app, seeded_survey, lang):
    version = seeded_survey.current_version
    macro = get_template_attribute("survey/_questions.html", "ask")
    checked = 0
    with app.test_request_context(f"/?lang={lang}"):
        for page in survey_pages(version):
            for variable in page.variables:
                facets = [None, text_in(variable.label, lang) or None]
                for facet_label in facets:
                    skeleton = QuestionSkeleton.build(variable, lang, facet_label)
                    assert skeleton is not None, variable.name
                    for value in _values(variable):
                        form = build_form([variable], lang, formdata=None,
                                          data={} if value is None else {variable.name: value})
                        expected = str(macro(form, variable, {variable.name: _anchors(variable, lang)},
                                             facet_label))
                        assert str(skeleton.fill(form[variable.name])) == expected, \
                            (variable.name, value, facet_label)
                        checked += 1
    assert checked > 1000


def _anchors(variable, lang):
    from surveyapp.questionnaire.forms import scale_anchors
    return scale_anchors(variable, lang)


def test_a_question_with_errors_goes_through_the_macro(app, seeded_survey):
    """Posted answers out of the scale come back with their error and the typed value."""
    version = seeded_survey.current_version
    page = next(p for p in survey_pages(version) if p.layout == "allocation")
    variable = page.variables[0]
    with app.test_request_context("/?lang=en"):
        form = build_form(page.variables, "en", formdata=MultiDict({variable.name: "abc"}),
                          version=version)
        form.validate()
        assert form[variable.name].errors
        anchors = {v.name: _anchors(v, "en") for v in page.variables}
        html = str(question_renderer(form, anchors, "en", version)(variable))
        macro = get_template_attribute("survey/_questions.html", "ask")
        assert html == str(macro(form, variable, anchors, None))
        assert 'value="abc"' in html and 'aria-invalid="true"' in html


def test_form_class_is_built_once_per_version_language_and_questions(app, seeded_survey):
    version = seeded_survey.current_version
    page = survey_pages(version)[1]
    with app.test_request_context("/"):
        first = build_form(page.variables, "en", version=version)
        again = build_form(page.variables, "en", version=version)
        other_language = build_form(page.variables, "zh", version=version)
        fewer = build_form(page.variables[1:], "en", version=version)
        unversioned = build_form(page.variables, "en")
    assert type(first) is type(again)
    assert type(other_language) is not type(first)
    assert [field.name for field in fewer] == [v.name for v in page.variables[1:]]
    assert [field.name for field in first] == [v.name for v in page.variables]
    assert type(unversioned) is not type(first)
    assert first is not again and first.group_errors == {} and first.group_errors is not again.group_errors


def test_form_class_asks_each_variable(app, seeded_survey):
    page = survey_pages(seeded_survey.current_version)[0]
    with app.test_request_context("/"):
        form = form_class(page.variables, "en")(formdata=None, meta={"csrf": False})
    assert [field.name for field in form] == [v.name for v in page.variables]


def test_the_pages_csrf_field_is_the_markup_wtforms_writes(app, client, seeded_survey):
    import re

    from surveyapp.questionnaire.forms import FinalPageForm

    app.config["WTF_CSRF_ENABLED"] = True
    html = client.get(f"/s/{seeded_survey.slug}?p=1").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', html).group(0)
    with app.test_request_context("/"):
        wtforms_tag = str(FinalPageForm().csrf_token())
    pattern = r'<input id="csrf_token" name="csrf_token" type="hidden" value="[^"]+">'
    assert re.fullmatch(pattern, tag) and re.fullmatch(pattern, wtforms_tag)


def _answers_for(variables, pick: int) -> dict[str, object]:
    """Form data choosing, per question, the ``pick``-th of its possible answers (or none)."""
    data = {}
    for variable in variables:
        values = _values(variable)
        value = values[(pick + len(variable.name)) % len(values)]
        if value is not None:
            data[variable.name] = int(value) if variable.scale["type"] == "constant_sum" \
                and value.isdigit() else value
    return data


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("token", [None, "Abc-12_xyz"])
def test_a_page_from_its_frame_is_what_the_template_renders(app, seeded_survey, lang, token):
    """Frames are made with one respondent's answers and tokens and reused for others."""
    from types import SimpleNamespace

    from flask_wtf.csrf import generate_csrf

    from surveyapp.questionnaire.render import render_from_frame, render_survey_page
    from surveyapp.services.version_cache import version_design

    app.config["WTF_CSRF_ENABLED"] = True
    version = seeded_survey.current_version
    pages = survey_pages(version)
    design = version_design(version)
    framed = 0
    for index, page in enumerate(pages):
        for pick, respondent_token in enumerate([token, token and token[::-1], token]):
            query = (f"t={respondent_token}&" if respondent_token else "") + f"p={index + 1}"
            with app.test_request_context(f"/s/{seeded_survey.slug}?{query}",
                                          environ_base={"HTTP_ACCEPT_LANGUAGE": lang}):
                visit = SimpleNamespace(
                    version=version, token=respondent_token, slug=seeded_survey.slug,
                    invitation=SimpleNamespace(token=respondent_token) if respondent_token else None)
                data = _answers_for(page.variables, pick)
                action_url = f"/s/{seeded_survey.slug}" + (f"?t={respondent_token}" if respondent_token else "")

                def form(answers=data):
                    return build_form(page.variables, lang, formdata=None, data=answers,
                                      version=version)

                html = render_from_frame(seeded_survey, design, pages, index, data,
                                         action_url=action_url, visit=visit, build_form=form)
                if page.is_final:
                    assert html is None
                    continue
                expected = render_survey_page(seeded_survey, design, pages, index, form(),
                                              action_url=action_url, visit=visit)
                assert html == expected, (index, pick)
                assert generate_csrf() in html
                framed += 1
    assert framed == 3 * (len(pages) - 1)


def test_no_frame_for_other_query_arguments(app, seeded_survey):
    from types import SimpleNamespace

    from surveyapp.questionnaire.render import render_from_frame
    from surveyapp.services.version_cache import version_design

    version = seeded_survey.current_version
    pages = survey_pages(version)
    visit = SimpleNamespace(version=version, token=None, slug=seeded_survey.slug, invitation=None)
    for query in ("p=2&utm_source=mail", "p=2&p=3", "p=2&lang=zh"):
        with app.test_request_context(f"/s/{seeded_survey.slug}?{query}"):
            assert render_from_frame(
                seeded_survey, version_design(version), pages, 1, {},
                action_url="/", visit=visit,
                build_form=lambda answers: build_form(pages[1].variables, "en", data=answers,
                                                      version=version)) is None
    odd = SimpleNamespace(version=version, token="a b", slug=seeded_survey.slug,
                          invitation=SimpleNamespace(token="a b"))
    with app.test_request_context(f"/s/{seeded_survey.slug}?p=2&t=a+b"):
        assert render_from_frame(seeded_survey, version_design(version), pages, 1, {},
                                 action_url="/", visit=odd,
                                 build_form=lambda answers: build_form(pages[1].variables, "en",
                                                                       version=version)) is None


def _posts(page, rng):
    """Posts of a page: every answer valid, and the same with one or two values spoilt."""
    from tests.survey.helpers import page_answers

    spoilers = ["", " ", "0", "+7", " 7", "07", "7.0", "-1", "99", "na", "abc", "1e1", "٣",
                "100", "20", "00"]
    valid = page_answers(page)
    yield dict(valid)
    for _ in range(60):
        post = dict(valid)
        for name in rng.sample(sorted(post), k=min(len(post), rng.choice([1, 2]))):
            if rng.random() < 0.2:
                post.pop(name)
            else:
                post[name] = rng.choice(spoilers + _values_of(page, name))
        yield post


def _values_of(page, name):
    variable = next(v for v in page.variables if v.name == name)
    return [value for value in _values(variable) if value is not None]


def test_posted_answers_are_what_the_form_reads_or_none(app, seeded_survey):
    """The form-less reading of a post (forms.posted_answers) agrees with the form whenever it
    reads the post, and reads it only when the form finds no error."""
    import random

    from werkzeug.datastructures import MultiDict

    from surveyapp.questionnaire.forms import answers_from_form, posted_answers

    rng = random.Random(14)
    version = seeded_survey.current_version
    read = refused = 0
    with app.test_request_context("/"):
        for page in survey_pages(version):
            if page.is_final:
                continue
            for post in _posts(page, rng):
                formdata = MultiDict(post)
                quick = posted_answers(page.variables, formdata, version)
                form = build_form(page.variables, "en", formdata=formdata, version=version)
                valid = form.validate()
                if quick is None:
                    refused += 1
                    continue
                read += 1
                assert valid, (page.key, post, {f.name: f.errors for f in form if f.errors},
                               form.group_errors)
                assert quick == answers_from_form(form, page.variables, skip_invalid=True), post
            from tests.survey.helpers import page_answers
            assert posted_answers(page.variables, MultiDict(page_answers(page)), version) \
                is not None, page.key
    assert read > 100 and refused > 100, (read, refused)


def test_no_frame_for_a_page_that_shows_an_answer_outside_its_questions(app, seeded_survey,
                                                                        monkeypatch):
    """A template that showed an answer anywhere else would bake the first respondent's answer
    into the frame: such a page gets no frame (it is rendered in full for everyone)."""
    from types import SimpleNamespace

    from markupsafe import escape

    import surveyapp.questionnaire.render as render
    from surveyapp.services.version_cache import version_design

    real = render.render_survey_page

    def with_a_summary(*args, **kwargs):
        form = args[4]
        chosen = sorted((name, str(value)) for name, value in form.data.items()
                        if name != "csrf_token" and value is not None)
        return str(real(*args, **kwargs)) + f"<p>You chose {escape(str(chosen))}</p>"

    monkeypatch.setattr(render, "render_survey_page", with_a_summary)
    version = seeded_survey.current_version
    pages = survey_pages(version)
    visit = SimpleNamespace(version=version, token=None, slug=seeded_survey.slug, invitation=None)
    page = pages[1]
    data = {page.variables[0].name: "2"}
    with app.test_request_context(f"/s/{seeded_survey.slug}?p=2"):
        assert render.render_from_frame(
            seeded_survey, version_design(version), pages, 1, data, action_url="/", visit=visit,
            build_form=lambda answers: build_form(page.variables, "en", data=answers,
                                                  version=version)) is None


def test_no_frame_while_a_message_waits(app, seeded_survey):
    """A flashed message is shown by the template, so such a page is rendered in full."""
    from types import SimpleNamespace

    from flask import flash

    from surveyapp.questionnaire.render import render_from_frame
    from surveyapp.services.version_cache import version_design

    version = seeded_survey.current_version
    pages = survey_pages(version)
    visit = SimpleNamespace(version=version, token=None, slug=seeded_survey.slug, invitation=None)
    with app.test_request_context(f"/s/{seeded_survey.slug}?p=2"):
        flash("We have taken you back to where you left off.", "info")
        assert render_from_frame(
            seeded_survey, version_design(version), pages, 1, {}, action_url="/", visit=visit,
            build_form=lambda answers: build_form(pages[1].variables, "en", data=answers,
                                                  version=version)) is None

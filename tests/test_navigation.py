"""Each role's home after login, breadcrumbs, the dashboard list and optional links."""
import re

from surveyapp.models import Role
from surveyapp.services.demo import DEMO_USERS


def _login_demo(client, role):
    name, password = DEMO_USERS[role]
    response = client.post("/auth/login", data={"username": name, "password": password})
    assert response.status_code == 302
    return response


def test_researcher_home_links_every_part_of_their_surveys(client, seeded_survey):
    response = _login_demo(client, Role.RESEARCHER)
    home = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert 'data-role="researcher"' in home and "Your surveys" in home
    slug = seeded_survey.slug
    for href in (f"/admin/surveys/{slug}/edit", f"/admin/surveys/{slug}/invitations",
                 f"/admin/surveys/{slug}#export-form", f"/dashboard/{slug}", "/admin/surveys/new"):
        assert f'href="{href}"' in home, href
    # No cases page in this app yet: no link to one.
    assert "Cases" not in home
    for href in re.findall(r'href="(/(?:admin|dashboard)/[^"#]*)', home):
        assert client.get(href).status_code == 200, href


def test_manager_home_lists_the_dashboards_they_can_see(client, db, seeded_survey, make_user):
    other = make_user("olga")
    from surveyapp.services.surveys import create_survey, default_design
    design = default_design()
    design["instruments"] = [{"id": "profile"}]
    create_survey(other, "not-shared", "未共享", "Not shared", design)
    response = _login_demo(client, Role.MANAGER)
    home = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert 'data-role="manager"' in home and "Dashboards you can see" in home
    assert f'href="/dashboard/{seeded_survey.slug}"' in home and "/admin/" not in home
    assert "not-shared" not in home
    listing = client.get("/dashboard/")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert f'href="/dashboard/{seeded_survey.slug}"' in html and "not-shared" not in html
    assert 'aria-label="Breadcrumb"' in html


def test_dashboard_list_needs_login(client):
    response = client.get("/dashboard/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_admin_pages_have_breadcrumbs_and_link_the_dashboard(client, seeded_survey):
    _login_demo(client, Role.RESEARCHER)
    html = client.get(f"/admin/surveys/{seeded_survey.slug}/invitations?lang=en").get_data(as_text=True)
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', html, re.S).group(0)
    assert [label.strip() for label in re.findall(r">([^<>]+)</(?:a|span)>", crumbs)] == [
        "Home", "My surveys", seeded_survey.title_en, "Invitations"]
    assert 'aria-current="page">Invitations' in crumbs
    assert f'href="/dashboard/{seeded_survey.slug}"' in html


def test_cases_link_appears_once_the_app_has_a_cases_page(app, client, seeded_survey):
    app.add_url_rule("/cases/<slug>", "cases.index", lambda slug: "cases of " + slug)
    _login_demo(client, Role.RESEARCHER)
    home = client.get("/?lang=en").get_data(as_text=True)
    assert f'href="/cases/{seeded_survey.slug}"' in home and "Cases" in home

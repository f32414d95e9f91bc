"""The demo generator: reproducible, valid, and carrying the structure its docstring promises."""
import numpy as np
import pandas as pd
import pytest

from analysis.kano import kano_summary
from surveyapp.models import Contact, Response, SurveyShare, User
from analysis.synthetic import KANO_TRUE_CATEGORIES, synthetic_answers
from surveyapp.services.demo import DEMO_SLUG, DEMO_USERS, ensure_demo
from surveyapp.services.responses import codebook_of, responses_frame


@pytest.fixture
def demo_frame(app):
    survey = ensure_demo(1500, seed=11).survey
    return survey, responses_frame(survey)


def test_demo_creates_users_survey_and_responses(app, db):
    result = ensure_demo(80, seed=3)
    assert result.created and result.responses == 80
    assert result.survey.slug == DEMO_SLUG and result.survey.status == "open"
    names = {u.username for u in db.session.execute(db.select(User)).scalars()}
    assert {creds[0] for creds in DEMO_USERS.values()} <= names
    assert db.session.execute(db.select(SurveyShare)).scalars().first() is not None
    stored = db.session.execute(db.select(db.func.count(Response.id))).scalar_one()
    assert stored == 80
    assert db.session.execute(db.select(db.func.count(Contact.id))).scalar_one() > 0
    again = ensure_demo(80, seed=3)
    assert not again.created
    assert db.session.execute(db.select(db.func.count(Response.id))).scalar_one() == 80


def test_demo_cli_prints_logins(app):
    result = app.test_cli_runner().invoke(args=["demo", "--responses", "20"])
    assert result.exit_code == 0, result.output
    assert "demo-researcher" in result.output and "demo-manager" in result.output


def test_same_seed_same_answers(app):
    survey = ensure_demo(10, seed=5).survey
    codebook = codebook_of(survey.current_version)
    a = synthetic_answers(codebook, 50, np.random.default_rng(1)).values
    b = synthetic_answers(codebook, 50, np.random.default_rng(1)).values
    assert all(np.array_equal(a[name], b[name], equal_nan=True) for name in codebook.names)


def test_answers_stay_on_their_scales(demo_frame):
    survey, frame = demo_frame
    for variable in codebook_of(survey.current_version):
        values = frame[variable.name].dropna()
        scale = variable.scale
        if scale["type"] == "rating":
            assert values.between(scale["min"], scale["max"]).all(), variable.name
        elif scale["type"] == "choice":
            assert set(values) <= {o["value"] for o in scale["options"]}, variable.name
    weights = frame[[c for c in frame.columns if c.startswith("SQW_")]]
    assert (weights.sum(axis=1) == 100).all()


def test_servqual_gaps_negative_and_largest_for_responsiveness(demo_frame):
    survey, frame = demo_frame
    codebook = codebook_of(survey.current_version)
    gaps = {}
    for dimension, items in codebook.dimensions("servqual").items():
        if dimension == "importance":
            continue
        gaps[dimension] = np.nanmean([frame[f"{i}_P"] - frame[f"{i}_E"] for i in items])
    assert all(g < 0 for g in gaps.values())
    assert min(gaps, key=gaps.get) == "responsiveness"
    assert max(gaps, key=gaps.get) == "tangibles"


def test_relationship_paths_have_the_modelled_signs(demo_frame):
    survey, frame = demo_frame
    codebook = codebook_of(survey.current_version)
    scores = pd.DataFrame({
        dim: frame[[v.name for v in codebook.select(instrument="relationship", dimension=dim)
                    if not v.reverse]].mean(axis=1)
        for dim in ("satisfaction_visit", "trust_staff", "commitment_affective", "friendship")})
    corr = scores.corr()
    assert corr.loc["satisfaction_visit", "commitment_affective"] > 0.25
    assert corr.loc["friendship", "trust_staff"] > 0.3


def test_kano_true_categories_are_recovered(demo_frame):
    _, frame = demo_frame
    summary = kano_summary(frame)
    recovered = list(summary["category"])
    assert recovered == list(KANO_TRUE_CATEGORIES[:len(recovered)])


def test_tiny_demo_without_contacts(app, db):
    # With seed 1 none of the three synthetic respondents agrees to be contacted.
    result = ensure_demo(3, seed=1)
    assert result.created and result.responses == 3
    assert db.session.execute(db.select(db.func.count(Contact.id))).scalar_one() == 0

"""The per-version cache: one parse per version, shared read-only, never crossing apps or versions."""
import copy
import json
import pickle

import pytest

from analysis.instruments import Codebook
from surveyapp.models import Role
from surveyapp.services.pages import survey_pages
from surveyapp.services.responses import codebook_of, submit_response
from surveyapp.services.surveys import create_survey, open_survey
from surveyapp.services.version_cache import FrozenDict, FrozenList, deep_freeze


@pytest.fixture
def version(db, make_user):
    owner = make_user("owner", Role.RESEARCHER)
    design = {"firm": {"zh": "测试银行", "en": "Test Bank"}, "languages": ["zh", "en"],
              "instruments": [{"id": "overall"}, {"id": "servqual", "items": ["SQ01", "SQ02"]},
                              {"id": "profile", "items": ["PR_CHANNEL"]}]}
    return open_survey(create_survey(owner, "cached", "缓存", "Cached", design))


def test_codebook_parsed_once_and_equal_to_a_fresh_parse(version, monkeypatch):
    first = codebook_of(version)
    assert first.to_json() == Codebook.from_json(version.codebook).to_json()
    calls = []
    monkeypatch.setattr(Codebook, "from_json", classmethod(lambda cls, data: calls.append(1)))
    assert codebook_of(version) is first
    assert survey_pages(version) is survey_pages(version)
    assert calls == []


def test_shared_codebook_and_pages_refuse_changes(version):
    codebook = codebook_of(version)
    variable = codebook["PR_CHANNEL"]
    with pytest.raises(TypeError):
        variable.scale["type"] = "rating"
    with pytest.raises(TypeError):
        variable.scale["options"].append({"value": 9})
    with pytest.raises(TypeError):
        variable.text.update(zh="改")
    with pytest.raises(TypeError):
        codebook.variables.append(variable)
    with pytest.raises(TypeError):
        survey_pages(version).pop()
    for page in survey_pages(version):
        for section in page.sections:
            with pytest.raises(TypeError):
                section.heading["zh"] = "改"
    # Nothing changed for the next request.
    assert codebook_of(version)["PR_CHANNEL"].scale["type"] == "choice"
    assert len(codebook_of(version).variables) == len(version.codebook)


def test_copies_of_shared_values_are_ordinary_and_changeable(version):
    scale = codebook_of(version)["SQ01_E"].scale
    deep = copy.deepcopy(scale)
    assert type(deep) is dict and deep == scale
    deep["max"] = 99
    assert scale["max"] == 7
    assert type(scale.copy()) is dict
    assert json.loads(json.dumps(scale)) == json.loads(json.dumps(deep | {"max": 7}))
    assert pickle.loads(pickle.dumps(scale)) == scale
    # The JSON form of a shared codebook is a fresh, changeable structure (anchors as strings).
    exported = codebook_of(version).to_json()
    exported[0]["scale"]["type"] = "changed"
    assert codebook_of(version).to_json()[0]["scale"]["type"] != "changed"


def test_deep_freeze_keeps_values_and_types():
    frozen = deep_freeze({"a": [1, {"b": (2, [3])}], "c": "text"})
    assert frozen == {"a": [1, {"b": (2, [3])}], "c": "text"}
    assert isinstance(frozen, FrozenDict) and isinstance(frozen["a"], FrozenList)
    assert isinstance(frozen["a"][1]["b"], tuple) and isinstance(frozen["a"][1]["b"][1], FrozenList)


def test_new_version_gets_its_own_entry(version):
    survey = version.survey
    before = codebook_of(version)
    survey.design = {**survey.design, "instruments": [{"id": "overall"}]}
    newer = open_survey(survey)
    assert newer.id != version.id
    assert codebook_of(newer).names != before.names
    assert codebook_of(version) is before
    submit_response(newer, {codebook_of(newer).names[0]: 5})


def test_apps_do_not_share_entries(app, version):
    from surveyapp import create_app
    other = create_app("testing")
    with other.app_context():
        from surveyapp.extensions import db
        db.create_all()
        assert "surveyapp.version_cache" not in other.extensions
    codebook_of(version)
    assert "surveyapp.version_cache" in app.extensions
    assert "surveyapp.version_cache" not in other.extensions

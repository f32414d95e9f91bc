"""Fixtures of the service tests: the demo survey's analysis and its charts (computed once)."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from analysis.report import ReportOptions, analyse_survey
from analysis.synthetic import synthetic_frame
from surveyapp import create_app
from surveyapp.services import charts
from surveyapp.services.demo import demo_design
from surveyapp.services.surveys import compose, instrument_library


def _drawn(app, codebook, analysis, lang: str) -> dict:
    """The charts, tiles and KANO rows of ``analysis`` in ``lang``."""
    documents = {key: instrument.document for key, instrument in instrument_library().items()}
    features = [f for i in instrument_library().values() if i.kind == "kano" for f in i.features]
    with app.test_request_context(), force_locale(lang):
        labels = charts.labels_for(codebook, documents, features, lang)
        drawn = charts.dashboard_charts(analysis, labels)
        tiles = charts.headline_tiles(analysis, completion_rate=0.9)
        kano = charts.kano_rows(analysis, labels)
    return {"labels": labels, "charts": {c.id: c for cs in drawn.values() for c in cs},
            "sections": drawn, "tiles": {t.id: t for t in tiles}, "kano": kano}


@pytest.fixture(scope="session")
def demo():
    """The demo codebook, 300 synthetic complete responses and their analysis, drawn in English
    (``demo["zh"]``: the same drawn in Chinese)."""
    app = create_app("testing")
    with app.app_context():
        codebook = compose(demo_design())
        frame = synthetic_frame(codebook, 300, seed=11)
        frame = frame[frame["status"] == "complete"].reset_index(drop=True)
        analysis = analyse_survey(frame, codebook, ReportOptions(n_boot=200, csi_boot=0))
        yield {"app": app, "codebook": codebook, "frame": frame, "analysis": analysis,
               **_drawn(app, codebook, analysis, "en"), "zh": _drawn(app, codebook, analysis, "zh")}


@pytest.fixture(scope="session")
def sparse_demo(demo):
    """The analysis of the demo's first 24 responses, drawn in English: below every stated minimum n."""
    app, codebook = demo["app"], demo["codebook"]
    with app.app_context():
        analysis = analyse_survey(demo["frame"].head(24).reset_index(drop=True), codebook,
                                  ReportOptions(n_boot=200, csi_boot=0))
        yield {"analysis": analysis, **_drawn(app, codebook, analysis, "en")}

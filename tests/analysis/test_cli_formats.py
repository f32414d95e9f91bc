"""`python -m analysis report` on the files researchers have: surveyapp's own export,
Qualtrics and LimeSurvey exports, their own KANO features and E/P items; JSON output."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.io import read_responses_csv
from analysis.servqual import paired_gap_test, servqual
from tests.analysis.kiosk import KIOSK, KIOSK_DIMENSIONS, KIOSK_PAIRS, read_kiosk_kano, read_kiosk_servqual

FORMATS = Path(__file__).resolve().parents[1] / "data" / "formats"
FAST = ["--bootstrap", "0", "--csi-bootstrap", "0", "--format", "json"]


def _json(capsys, argv) -> dict:
    assert main(argv) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def kiosk():
    return read_kiosk_servqual(KIOSK)


def _items(payload) -> pd.DataFrame:
    return pd.DataFrame(payload["tables"]["servqual_items"]).set_index("item")


def test_qualtrics_export_with_its_three_header_rows(capsys, kiosk):
    frame = read_responses_csv(FORMATS / "qualtrics_servqual.csv",
                               mapping=json.loads((FORMATS / "qualtrics_map.json").read_text()))
    assert frame.attrs["source"] == "qualtrics" and len(frame) == 40
    assert frame["status"].tolist() == ["complete"] * 39 + ["partial"]
    assert frame["duration_seconds"].iloc[0] == 420.0 and frame["language"].iloc[0] == "EN"
    assert frame["started_at"].iloc[0] == pd.Timestamp("2024-03-01 09:00", tz="UTC")
    payload = _json(capsys, ["report", str(FORMATS / "qualtrics_servqual.csv"), "-i", "servqual",
                             "--map", str(FORMATS / "qualtrics_map.json"), "--keep-flagged", *FAST])
    assert payload["n_total"] == 39                        # the unfinished response left out
    complete = kiosk.head(39)
    expected = paired_gap_test(complete["KS01_E"], complete["KS01_P"])
    assert _items(payload).loc["SQ01", "t"] == pytest.approx(expected["t"], rel=1e-12)
    assert _items(payload).loc["SQ01", "n"] == expected["n"]
    assert "partial response(s) left out" in payload["notes"][0]


def test_limesurvey_export_with_question_code_headings(capsys, kiosk):
    frame = read_responses_csv(FORMATS / "limesurvey_servqual.csv")
    assert frame.attrs["source"] == "limesurvey"
    assert frame["response_id"].tolist()[:2] == [101, 102] and "SQ22_P" in frame
    assert (frame["status"] == "partial").sum() == 1 and "seed" not in frame
    assert frame["language"].iloc[0] == "en"
    payload = _json(capsys, ["report", str(FORMATS / "limesurvey_servqual.csv"), "-i", "servqual",
                             "--keep-flagged", *FAST])
    complete = kiosk.head(39)
    for item in ("SQ01", "SQ22"):
        k = f"KS{item[2:]}"
        expected = paired_gap_test(complete[f"{k}_E"], complete[f"{k}_P"])
        assert _items(payload).loc[item, "mean_gap"] == pytest.approx(expected["mean_gap"])
        assert _items(payload).loc[item, "t"] == pytest.approx(expected["t"])


def test_unknown_column_message_names_the_map_flag(tmp_path, capsys):
    path = tmp_path / "other.csv"
    path.write_text("Respondent,SQ01_E,SQ01_P\n1,5,6\n")
    assert main(["report", str(path), "-i", "servqual", *FAST]) == 1
    err = capsys.readouterr().err
    assert "--map" in err and "mapping=" not in err and "'Respondent'" in err


def test_kiosk_servqual_without_allocation_through_the_cli(tmp_path, capsys, kiosk):
    path = tmp_path / "kiosk.csv"
    columns = {f"KS{i:02d}_{f}": f"SQ{i:02d}_{f}" for i in range(1, 23) for f in ("E", "P")}
    kiosk[["response_id", *columns]].rename(columns=columns).to_csv(path, index=False)
    payload = _json(capsys, ["report", str(path), "-i", "servqual", *FAST])
    assert {"servqual_items", "servqual_dimensions", "servqual_overall"} <= set(payload["tables"])
    skipped = {entry["section"] for entry in payload["not_computed"]}
    assert "servqual_weighted" in skipped and "servqual" not in skipped
    only_pair_one = tmp_path / "pair1.csv"
    kiosk[["response_id", "KS01_E", "KS01_P"]].rename(columns=columns).to_csv(only_pair_one, index=False)
    payload = _json(capsys, ["report", str(only_pair_one), "-i", "servqual", *FAST])
    assert _items(payload).loc["SQ01", "t"] == pytest.approx(-7.2268, abs=5e-5)


def test_own_items_file_replaces_the_shipped_list(tmp_path, capsys, kiosk):
    items = tmp_path / "items.csv"
    rows = [{"code": item, "dimension": dim, "en": f"statement {item}", "zh": f"陈述 {item}"}
            for dim, its in KIOSK_DIMENSIONS.items() for item in its]
    pd.DataFrame(rows).to_csv(items, index=False)
    path = tmp_path / "kiosk.csv"
    kiosk[["response_id", *[c for pair in KIOSK_PAIRS.values() for c in pair]]].to_csv(path, index=False)
    payload = _json(capsys, ["report", str(path), "-i", "servqual", "--items", str(items),
                             "--keep-flagged", *FAST])
    direct = servqual(kiosk, KIOSK_PAIRS, KIOSK_DIMENSIONS)
    dims = pd.DataFrame(payload["tables"]["servqual_dimensions"]).set_index("dimension")
    np.testing.assert_allclose(dims.loc[list(KIOSK_DIMENSIONS), "t"],
                               direct.dimensions.set_index("dimension").loc[list(KIOSK_DIMENSIONS), "t"],
                               rtol=1e-12)
    assert len(payload["tables"]["servqual_items"]) == 24


def _kano_file(tmp_path, codes) -> Path:
    kano = read_kiosk_kano(KIOSK)
    frame = pd.DataFrame({"response_id": np.arange(1, len(kano) + 1)})
    for k, code in enumerate(codes, start=1):
        for facet in ("F", "D"):
            frame[f"{code}_{facet}"] = kano[f"K{k:02d}_{facet}"]
    path = tmp_path / "kano.csv"
    frame.to_csv(path, index=False)
    return path


def test_kano_file_with_five_of_ten_features(tmp_path, capsys):
    path = _kano_file(tmp_path, ["K01", "K02", "K03", "K04", "K05"])
    payload = _json(capsys, ["report", str(path), "-i", "kano", *FAST])
    assert [row["feature"] for row in payload["tables"]["kano"]] == ["K01", "K02", "K03", "K04", "K05"]
    skipped = {entry["section"] for entry in payload["not_computed"]}
    assert {f"kano:K{k:02d}" for k in range(6, 11)} <= skipped and "kano" not in skipped


def test_own_kano_features(tmp_path, capsys):
    features = tmp_path / "features.csv"
    features.write_text("code,en,zh\nKIOSK_A,menu photos,菜单图片\nKIOSK_B,card payment,刷卡支付\n"
                        "KIOSK_C,voice guide,语音引导\n", encoding="utf-8")
    path = _kano_file(tmp_path, ["KIOSK_A", "KIOSK_B", "KIOSK_C"])
    payload = _json(capsys, ["report", str(path), "-i", "kano", "--kano-features", str(features), *FAST])
    table = pd.DataFrame(payload["tables"]["kano"]).set_index("feature")
    assert list(table.index) == ["KIOSK_A", "KIOSK_B", "KIOSK_C"]
    assert not [e for e in payload["not_computed"] if e["section"].startswith("kano")]
    assert table["n"].tolist() == [207, 207, 207]


def test_surveyapp_export_reads_unchanged(seeded_survey, tmp_path, capsys):
    from surveyapp.services.exports import csv_chunks, survey_codebook
    from surveyapp.services.responses import ResponseFilter

    path = tmp_path / "export.csv"
    path.write_bytes(b"".join(csv_chunks(seeded_survey, ResponseFilter(complete_only=False))))
    frame = read_responses_csv(path)
    assert {"language", "comment", "contact_ok", "status", "version"} <= set(frame.columns)
    instruments = sorted({v.instrument for v in survey_codebook(seeded_survey)})
    argv = ["report", str(path), *[a for i in instruments for a in ("-i", i)], *FAST]
    payload = _json(capsys, argv)
    assert payload["n_total"] == int((frame["status"] == "complete").sum())
    assert "servqual_items" in payload["tables"]

"""`python -m analysis report`: the analysis on a CSV collected elsewhere."""
import json
import subprocess
import sys

import pandas as pd
import pytest

from analysis.__main__ import main
from analysis.instruments import compose_codebook, load_instruments
from analysis.synthetic import synthetic_frame


@pytest.fixture(scope="module")
def servqual_csv(tmp_path_factory):
    library = load_instruments()
    codebook = compose_codebook([(library["servqual"], None)])
    frame = synthetic_frame(codebook, 150, seed=3)
    frame = frame[frame["status"] == "complete"]
    path = tmp_path_factory.mktemp("csv") / "responses.csv"
    frame[["response_id", "duration_seconds", *codebook.names]].to_csv(path, index=False)
    return path, frame


def test_report_on_csv(servqual_csv, capsys):
    path, frame = servqual_csv
    assert main(["report", str(path), "-i", "servqual", "--bootstrap", "0",
                 "--csi-bootstrap", "0", "--keep-flagged"]) == 0
    out = capsys.readouterr().out
    assert f"Responses: {len(frame)} complete" in out
    assert "SERVQUAL DIMENSIONS" in out and "METHODS" in out
    # The printed overall gap is the mean of the respondents' dimension means.
    assert "responsiveness" in out


def test_limesurvey_style_headers_with_map(servqual_csv, tmp_path, capsys):
    path, _ = servqual_csv
    original = pd.read_csv(path)
    renamed = original.rename(columns=lambda c: f"Q[{c}]" if c.startswith("SQ") else c)
    renamed.to_csv(tmp_path / "lime.csv", index=False)
    (tmp_path / "map.json").write_text(json.dumps(
        {f"Q[{c}]": c for c in original.columns if c.startswith("SQ")}
        | {"response_id": "response_id"}))
    code = main(["report", str(tmp_path / "lime.csv"), "-i", "servqual", "--map",
                 str(tmp_path / "map.json"), "--bootstrap", "0", "--csi-bootstrap", "0",
                 "--tables", str(tmp_path / "tables.xlsx")])
    assert code == 0
    sheets = pd.read_excel(tmp_path / "tables.xlsx", sheet_name=None)
    assert "servqual_dimensions" in sheets and len(sheets["servqual_items"]) == 22


def test_bad_csv_reports_line_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("response_id,SQ01_E,SQ01_P\n1,7,6\n2,seven,5\n")
    assert main(["report", str(bad), "-i", "servqual"]) == 1
    err = capsys.readouterr().err
    assert "line 3" in err and "SQ01_E" in err


def test_unknown_instrument(servqual_csv, capsys):
    path, _ = servqual_csv
    assert main(["report", str(path), "-i", "nope"]) == 2
    assert "available" in capsys.readouterr().err


def test_runs_as_module(servqual_csv):
    path, _ = servqual_csv
    done = subprocess.run([sys.executable, "-m", "analysis", "report", str(path), "-i", "servqual",
                           "--bootstrap", "0", "--csi-bootstrap", "0"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "SERVQUAL ITEMS" in done.stdout

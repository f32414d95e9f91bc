"""``python -m analysis pls`` on the ECSI mobile-phone data, checked against R seminr (fixture M2)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
MOBI = DATA / "mobi_ecsi.csv"
MODEL = DATA / "pls_models" / "ecsi_mobi.yaml"


def seminr_m2() -> dict:
    return json.loads((DATA / "seminr" / "M2_full_ecsi.json").read_text())


def run_json(capsys, *extra) -> dict:
    assert main(["pls", str(MOBI), "--model", str(MODEL), "--format", "json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_matches_r_seminr(capsys):
    out = run_json(capsys)
    expected = seminr_m2()
    coef = expected["pathCoef"]
    reference = {(s, t): coef["values"][i][j] for i, s in enumerate(coef["rows"])
                 for j, t in enumerate(coef["cols"]) if coef["values"][i][j] != 0}
    assert len(out["paths"]) == len(reference) == 12
    for row in out["paths"]:
        assert set(row) == {"source", "target", "estimate"}
        assert row["estimate"] == pytest.approx(reference[(row["source"], row["target"])], abs=1e-6)
    rsq = dict(zip(expected["rSquared"]["cols"], expected["rSquared"]["values"][0]))
    assert {r["construct"]: pytest.approx(r["r2"], abs=1e-6) for r in out["r2"]} == rsq
    loadings = expected["outerLoadings"]
    for row in out["outer"]:
        i, j = loadings["rows"].index(row["item"]), loadings["cols"].index(row["construct"])
        assert row["loading"] == pytest.approx(loadings["values"][i][j], abs=1e-6)
    assert out["n"] == 250 and out["scheme"] == "path"


def test_json_bootstrap_has_se_and_ci(capsys):
    out = run_json(capsys, "--bootstrap", "200", "--seed", "11")
    for row in out["paths"]:
        assert {"se", "ci_low", "ci_high"} <= set(row)
        assert row["se"] > 0
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
    assert out["bootstrap"] == {"n_boot": 200, "n_failed": 0, "seed": 11, "ci": 0.95, "interval": "percentile"}
    assert run_json(capsys, "--bootstrap", "200", "--seed", "11") == out


def test_schemes_and_text_output(capsys):
    centroid = run_json(capsys, "--scheme", "centroid")
    path = run_json(capsys)
    assert centroid["scheme"] == "centroid"
    assert centroid["paths"][0]["estimate"] != path["paths"][0]["estimate"]
    assert main(["pls", str(MOBI), "--model", str(MODEL)]) == 0
    text = capsys.readouterr().out
    assert "Satisfaction      Loyalty    0.4855" in text
    assert "converged in 7 iterations" in text


def test_runs_as_a_module():
    done = subprocess.run([sys.executable, "-m", "analysis", "pls", str(MOBI), "--model", str(MODEL),
                           "--format", "json"], capture_output=True, text=True, cwd=ROOT, check=True)
    assert json.loads(done.stdout)["paths"][10]["estimate"] == pytest.approx(0.485477623599999, abs=1e-6)


BAD_MODELS = [
    ("constructs:\n  A: [IMAG1, IMAG2]\n  B: [NOPE1]\npaths:\n  - [A, B]\n",
     "item(s) NOPE1 of construct B are not columns of"),
    ("constructs:\n  A: [IMAG1]\n  B: [CUSA1]\npaths:\n  - [A, C]\n", "path A -> C: construct C is not defined"),
    ("constructs:\n  A: [IMAG1]\n  B: [CUSA1]\n  C: [CUSL1]\npaths:\n  - [A, B]\n  - [B, C]\n  - [C, A]\n",
     "cycle"),
    ("constructs:\n  A: [IMAG1]\n  B: [IMAG1]\npaths:\n  - [A, B]\n", "IMAG1 is listed under two constructs"),
    ("constructs:\n  A: [IMAG1]\n  B: [CUSA1]\npaths:\n  - [A, B]\nmodes:\n  A: C\n", "mode must be A or B"),
    ("constructs:\n  A: [IMAG1]\n  B: [CUSA1]\npaths:\n  - [A, B, C]\n", "path 1 must be a [from, to] pair"),
    ("constructs: [IMAG1]\npaths: []\n", "constructs must map"),
    ("constructs:\n  A: [IMAG1]\n  B: [CUSA1]\npath:\n  - [A, B]\n", "unknown key(s) path"),
    ("constructs:\n  A: [IMAG1\n", "not valid YAML (line"),
]


@pytest.mark.parametrize("text, reason", BAD_MODELS)
def test_model_file_errors_name_the_file(tmp_path, capsys, text, reason):
    model = tmp_path / "model.yaml"
    model.write_text(text)
    assert main(["pls", str(MOBI), "--model", str(model)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {model}: ")
    assert reason in err


def edited_mobi(path: Path, row: int, column: str, value: str) -> Path:
    """mobi_ecsi.csv with one cell (0-based data row) replaced."""
    frame = pd.read_csv(MOBI, index_col=0).astype(object)
    frame.iloc[row, frame.columns.get_loc(column)] = value
    frame.to_csv(path)
    return path


def test_data_errors_name_the_csv(tmp_path, capsys):
    bad = edited_mobi(tmp_path / "bad.csv", 2, "CUSA2", "seven")
    assert main(["pls", str(bad), "--model", str(MODEL)]) == 1
    assert f"error: {bad}: line 4, column CUSA2: not a number ('seven')" in capsys.readouterr().err
    assert main(["pls", str(tmp_path / "absent.csv"), "--model", str(MODEL)]) == 1
    assert "absent.csv: cannot read" in capsys.readouterr().err


def test_incomplete_rows_are_dropped_and_counted(tmp_path, capsys):
    holes = edited_mobi(tmp_path / "holes.csv", 0, "PERV1", "")
    assert main(["pls", str(holes), "--model", str(MODEL), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == 249 and out["n_dropped_incomplete"] == 1
    assert np.isfinite([p["estimate"] for p in out["paths"]]).all()

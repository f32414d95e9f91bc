"""Writes the Qualtrics and LimeSurvey fixtures of this folder from the kiosk study.

The answers are the first 40 respondents of the Korean kiosk study (tests/data/README.md),
items KS01..KS22 as SQ01..SQ22; the layout follows each tool's documentation (see
tests/data/README.md). Run from the repository root: python tests/data/formats/make_fixtures.py
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.analysis.kiosk import KIOSK, read_kiosk_servqual  # noqa: E402

HERE = Path(__file__).resolve().parent
N = 40


def _answers():
    kiosk = read_kiosk_servqual(KIOSK).head(N)
    for _, row in kiosk.iterrows():
        yield row


def _cell(value) -> str:
    return "" if value != value else str(int(value))


def qualtrics() -> None:
    """Three header rows (field name, question text, ImportId JSON); matrix questions
    Q1 (expectations) and Q2 (perceptions) with statements 1..22: columns Q1_1 .. Q2_22."""
    meta = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
            "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
            "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
            "DistributionChannel", "UserLanguage"]
    questions = [f"Q{q}_{i}" for q in (1, 2) for i in range(1, 23)]
    texts = {"StartDate": "Start Date", "EndDate": "End Date", "Status": "Response Type",
             "IPAddress": "IP Address", "Progress": "Progress",
             "Duration (in seconds)": "Duration (in seconds)", "Finished": "Finished",
             "RecordedDate": "Recorded Date", "ResponseId": "Response ID",
             "RecipientLastName": "Recipient Last Name", "RecipientFirstName": "Recipient First Name",
             "RecipientEmail": "Recipient Email", "ExternalReference": "External Data Reference",
             "LocationLatitude": "Location Latitude", "LocationLongitude": "Location Longitude",
             "DistributionChannel": "Distribution Channel", "UserLanguage": "User Language"}
    import_ids = {"StartDate": '{"ImportId":"startDate","timeZone":"America/Denver"}',
                  "EndDate": '{"ImportId":"endDate","timeZone":"America/Denver"}',
                  "RecordedDate": '{"ImportId":"recordedDate","timeZone":"America/Denver"}'}
    with open(HERE / "qualtrics_servqual.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(meta + questions)
        writer.writerow([texts[m] for m in meta] + [
            f"{'Expectations' if q == 'Q1' else 'Perceptions'} - statement {i}"
            for q, i in (c.split("_") for c in questions)])
        writer.writerow([import_ids.get(m, json.dumps({"ImportId": m[0].lower() + m[1:]},
                                                      separators=(",", ":"))) for m in meta]
                        + [json.dumps({"ImportId": f"QID{q[1:]}_{i}"}, separators=(",", ":"))
                           for q, i in (c.split("_") for c in questions)])
        for k, row in enumerate(_answers()):
            finished = 0 if k == N - 1 else 1   # the last one left before the end
            start = f"2024-03-{1 + k % 28:02d} 09:{k % 60:02d}:00"
            end = f"2024-03-{1 + k % 28:02d} 09:{(k + 7) % 60:02d}:00"
            writer.writerow([start, end, 0, f"203.0.113.{k}", 100 if finished else 60, 420 + k,
                             finished, end, f"R_{k:015d}", "", "", "", "", "", "", "anonymous", "EN"]
                            + [_cell(row[f"KS{i:02d}_{f}"]) for f in ("E", "P") for i in range(1, 23)])
    mapping = {f"Q{1 if f == 'E' else 2}_{i}": f"SQ{i:02d}_{f}" for f in ("E", "P") for i in range(1, 23)}
    (HERE / "qualtrics_map.json").write_text(json.dumps(mapping, indent=1) + "\n", encoding="utf-8")


def limesurvey() -> None:
    """Question-code headings: response metadata, then one array question per item
    (code SQ01 ... SQ22) with subquestions E and P: columns SQ01[E], SQ01[P] ..."""
    meta = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "datestamp"]
    questions = [f"SQ{i:02d}[{f}]" for i in range(1, 23) for f in ("E", "P")]
    with open(HERE / "limesurvey_servqual.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(meta + questions)
        for k, row in enumerate(_answers()):
            complete = k != N - 1
            start = f"2024-03-{1 + k % 28:02d} 09:{k % 60:02d}:00"
            submit = f"2024-03-{1 + k % 28:02d} 09:{(k + 7) % 60:02d}:00" if complete else ""
            writer.writerow([k + 101, submit, 3 if complete else 1, "en", 1000 + k, start,
                             submit or start]
                            + [_cell(row[f"KS{i:02d}_{f}"]) for i in range(1, 23) for f in ("E", "P")])


if __name__ == "__main__":
    qualtrics()
    limesurvey()

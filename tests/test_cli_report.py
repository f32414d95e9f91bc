"""`flask report`: the text report of a stored survey."""


def test_flask_report_prints_every_section(app, seeded_survey):
    result = app.test_cli_runner().invoke(args=["report", seeded_survey.slug, "--bootstrap", "200",
                                                "--csi-bootstrap", "0"])
    assert result.exit_code == 0, result.output
    for heading in ("SERVQUAL DIMENSIONS", "RATIO SERVQUAL SURVEY", "KANO", "REGRESSIONS",
                    "MEDIATION", "IPA STATED", "CSI INDEX", "METHODS"):
        assert heading in result.output, heading


def test_flask_report_filters_and_errors(app, seeded_survey):
    runner = app.test_cli_runner()
    filtered = runner.invoke(args=["report", seeded_survey.slug, "--segment", "PR_BRANCH=1",
                                   "--bootstrap", "0", "--csi-bootstrap", "0"])
    assert filtered.exit_code == 0, filtered.output
    assert "Responses:" in filtered.output
    bad = runner.invoke(args=["report", seeded_survey.slug, "--segment", "PR_BRANCH"])
    assert bad.exit_code != 0 and "VARIABLE=CODE" in bad.output
    missing = runner.invoke(args=["report", "no-such-survey"])
    assert missing.exit_code != 0 and "no survey" in missing.output

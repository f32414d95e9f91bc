import pytest

from surveyapp.services.spreadsheet_safety import neutralise_cell


@pytest.mark.parametrize("text", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1",
                                  '=HYPERLINK("http://x")'])
def test_formula_like_text_gets_an_apostrophe(text):
    assert neutralise_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["plain", "a=b", "", " =x", "张三", 3, -2.5, None, True])
def test_other_values_pass_unchanged(value):
    assert neutralise_cell(value) == value

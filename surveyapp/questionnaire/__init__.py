"""The questionnaire as respondents see it: question forms and the page renderer, shared by the survey pages and the admin preview."""

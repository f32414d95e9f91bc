"""Opening cases on completed responses, the workflow, history, overdue escalation, signals."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveyapp import signals
from surveyapp.models import Case, CaseEvent, utcnow
from surveyapp.services import cases as service


def _cases(db):
    return db.session.execute(select(Case).order_by(Case.id)).scalars().all()


def test_an_unhappy_completed_response_opens_one_case(db, submit):
    submit(overall=2, comment="排队太久，柜员态度差，很失望")
    [case] = _cases(db)
    assert "overall satisfaction 2 <= 4" in case.reasons
    assert "comment polarity" in case.reasons
    assert case.comment_label == "negative" and "anger" in case.comment_emotions
    assert case.status == "open"
    # Round robin over the managers the survey is shared with: the first manager.
    assert case.owner.username == "manager"
    assert (case.due_at - case.opened_at) == timedelta(hours=48)
    assert [e.kind for e in case.events] == ["opened"]


def test_happy_and_partial_responses_open_nothing(db, submit):
    submit(overall=9, comment="服务很好，谢谢")
    submit(overall=1, complete=False)
    assert _cases(db) == []


def test_resumed_and_repeated_completion_never_opens_two(db, submit):
    partial = submit(overall=2, complete=False)
    assert _cases(db) == []
    response = submit(overall=2, response=partial)
    submit(overall=2, response=response)  # submitted again (a retry)
    service.open_case_for_response(response.id)  # the task delivered twice
    assert len(_cases(db)) == 1


def test_round_robin_alternates_managers(db, submit):
    for _ in range(4):
        submit(overall=1)
    assert [c.owner.username for c in _cases(db)] == ["manager", "manager2", "manager", "manager2"]


def test_screening_flag_is_shown_not_hiding(db, survey, submit):
    # Three customers took ten minutes; this one took no time: too fast, flagged, still a case.
    for _ in range(3):
        submit(overall=9, started_at=utcnow() - timedelta(minutes=10))
    response = submit(overall=1)
    [case] = _cases(db)
    assert case.response_id == response.id
    assert [flag.split(":")[0] for flag in case.screening_flags] == ["too_fast"]


def test_workflow_assign_note_status_resolve_with_history(db, submit, people):
    submit(overall=2)
    [case] = _cases(db)
    manager = people["manager"]
    service.assign(case, people["manager2"], manager)
    service.set_status(case, "in_progress", manager)
    service.add_note(case, "Called, no answer", manager)
    service.set_status(case, "contacted", manager)
    assert case.first_contact_at is not None
    with pytest.raises(service.CaseError, match="action"):
        service.resolve(case, "waiting_time", "  ", manager)
    with pytest.raises(service.CaseError, match="root cause"):
        service.resolve(case, "", "Apologised", manager)
    with pytest.raises(service.CaseError, match="resolve"):
        service.set_status(case, "resolved", manager)
    service.resolve(case, "waiting_time", "Apologised and waived the fee", manager)
    assert case.status == "resolved" and case.closed_at is not None
    kinds = [(e.kind, e.old, e.new, e.user.username if e.user else None) for e in case.events]
    assert kinds[:5] == [("opened", None, case.reasons, None),
                         ("owner", "manager", "manager2", "manager"),
                         ("status", "open", "in_progress", "manager"),
                         ("note", None, "Called, no answer", "manager"),
                         ("status", "in_progress", "contacted", "manager")]
    assert ("resolved", None, "waiting_time: Apologised and waived the fee", "manager") in kinds
    assert case.resurvey_token


def test_assign_only_to_the_survey_team(db, submit, people):
    submit(overall=2)
    [case] = _cases(db)
    with pytest.raises(service.CaseError, match="shared"):
        service.assign(case, people["stranger"], people["owner"])


def test_signals_after_commit_with_the_payload_contract(db, submit, people):
    received = []

    def listen(sender, **kwargs):
        # Sent after the commit: a fresh query sees the change.
        received.append((kwargs, db.session.execute(select(func.count()).select_from(Case)).scalar()))

    with signals.case_opened.connected_to(listen), signals.case_changed.connected_to(listen), \
            signals.case_resolved.connected_to(listen):
        submit(overall=2)
        [case] = _cases(db)
        service.add_note(case, "hello", people["manager"])
        service.resolve(case, "process", "fixed", people["manager"])
    assert len(received) == 3
    ids = {kwargs["event_id"] for kwargs, _n in received}
    assert len(ids) == 3
    for kwargs, count in received:
        payload = kwargs["payload"]
        assert count == 1 and kwargs["survey_id"] == case.survey_id
        assert {"title", "summary", "url", "case_id", "status", "priority"} <= set(payload)
        assert payload["url"].endswith(f"/cases/case/{case.id}")
    assert received[1][0]["payload"]["change"] == "note"
    assert received[2][0]["payload"]["status"] == "resolved"


def test_overdue_escalates_once(db, submit):
    submit(overall=2)
    [case] = _cases(db)
    sent = []
    with signals.case_overdue.connected_to(lambda sender, **kw: sent.append(kw)):
        assert service.escalate_overdue(utcnow() + timedelta(hours=47)) == []
        assert service.escalate_overdue(utcnow() + timedelta(hours=49)) == [case.id]
        assert service.escalate_overdue(utcnow() + timedelta(hours=50)) == []
    db.session.refresh(case)
    assert case.overdue and case.priority == 1 and len(sent) == 1
    assert sent[0]["payload"]["overdue"] is True
    assert db.session.execute(select(func.count()).select_from(CaseEvent)
                              .where(CaseEvent.kind == "overdue")).scalar() == 1


def test_survey_rule_and_sla_are_per_survey(db, survey, submit):
    from analysis.followup import UnhappinessRule
    service.save_settings(survey, UnhappinessRule(overall_at_most=None, ratio_below=None, gap_below=None,
                                                  negative_emotion_at_least=None, polarity_below=None,
                                                  keywords=("fee", "收费")), sla_hours=24,
                          suppression_days=30)
    submit(overall=1)
    assert _cases(db) == []
    submit(overall=9, comment="收费不透明")
    [case] = _cases(db)
    assert case.reasons == 'keyword "收费"'
    assert case.due_at - case.opened_at == timedelta(hours=24)


def test_resurvey_once_per_customer_within_the_window(db, submit, people):
    submit(overall=2, email="Same@Example.com")
    submit(overall=1, email="same@example.com")
    submit(overall=1, email="other@example.com")
    first, second, third = _cases(db)
    service.resolve(first, "process", "fixed", people["manager"])
    service.resolve(second, "process", "fixed", people["manager"])
    service.resolve(third, "process", "fixed", people["manager"])
    assert first.resurvey_token and third.resurvey_token
    assert second.resurvey_token is None  # the same customer within 90 days
    assert "resurvey_suppressed" in [e.kind for e in second.events]
    service.answer_resurvey(first, 8, "better now")
    with pytest.raises(service.CaseError, match="already"):
        service.answer_resurvey(first, 9, None)
    summary = service.survey_recovery(first.response.version.survey)
    assert summary.opened == 3 and summary.resolved_share == 1.0
    assert summary.before_after.to_dict("records") == [{"case_id": first.id, "before": 2.0, "after": 8.0}]


def test_resurvey_after_the_window_is_allowed(db, submit, people):
    submit(overall=2)
    submit(overall=2)
    first, second = _cases(db)
    service.resolve(first, "process", "fixed", people["manager"])
    first.resurvey_sent_at = utcnow() - timedelta(days=91)
    db.session.commit()
    service.resolve(second, "process", "fixed", people["manager"])
    assert second.resurvey_token is not None


def test_comment_emotion_comes_from_the_sentiment_engine(db, submit):
    """The case stores what analysis.sentiment says of the comment (score, label, emotions)."""
    from analysis.sentiment import default_engine
    text = "The staff were rude and I waited an hour, very disappointed"
    submit(overall=2, comment=text, lang="en")
    [case] = _cases(db)
    expected = default_engine().analyse([text], ["en"]).iloc[0]
    assert case.comment_score == pytest.approx(expected["score"])
    assert case.comment_label == expected["label"] == "negative"
    assert case.comment_emotions == expected["emotions"].split(";")
    assert service.comment_engine() is service.comment_engine()  # one engine per process


def test_comment_emotions_of_missing_and_other_language_comments(app):
    out = service.comment_emotions(["服务很好，谢谢！", None, "  ", "Great, thanks"], ["zh", "zh", None, "fr"])
    assert out["label"].tolist() == ["positive", None, None, "positive"]
    assert out["emotions"].tolist()[1:3] == [[], []]
    assert out["score"].isna().tolist() == [False, True, True, False]

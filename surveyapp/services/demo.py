"""The demo survey: users, a survey of every instrument, and synthetic responses.

The answers come from :mod:`analysis.synthetic` (its docstring states the model),
the comments from :mod:`analysis.synthetic_comments` (tied to each respondent's
overall satisfaction). Unhappy respondents get recovery cases (the survey's
rule, services/cases.py); :func:`demo_recovery` then works the older ones the
way a team might (documented there), so the recovery figures are not empty.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select

from analysis.instruments import Codebook
from analysis.synthetic import synthetic_frame
from analysis.synthetic_comments import synthetic_comments

from ..extensions import db
from ..models import Case, CaseEvent, Contact, Response, ResponseStatus, Role, Survey, SurveyShare, User
from . import cases, moment_store
from .responses import ANSWER_DTYPE, mark_not_asked
from .surveys import create_survey, default_design, open_survey, sync_instruments

DEMO_SLUG = "demo-bank"
DEMO_USERS = {
    Role.RESEARCHER: ("demo-researcher", "demo-researcher-2026"),
    Role.MANAGER: ("demo-manager", "demo-manager-2026"),
}
DEMO_FIRM = {"zh": "示例银行", "en": "Example Bank"}

@dataclass
class DemoResult:
    survey: Survey
    created: bool
    responses: int


def demo_design() -> dict[str, Any]:
    design = default_design(DEMO_FIRM)
    design["instruments"] = [{"id": key} for key in
                             ("profile", "servqual", "kano", "relationship", "emotions", "overall")]
    return design


def ensure_demo(n_responses: int, seed: int) -> DemoResult:
    """Create the demo users, survey and ``n_responses`` responses unless the survey exists."""
    existing = db.session.execute(select(Survey).where(Survey.slug == DEMO_SLUG)).scalar_one_or_none()
    if existing is not None:
        return DemoResult(existing, False, 0)
    sync_instruments()
    users = {role: _ensure_user(name, password, role) for role, (name, password) in DEMO_USERS.items()}
    survey = create_survey(users[Role.RESEARCHER], DEMO_SLUG, "示例银行服务质量与满意度调查",
                           "Example Bank service quality and satisfaction survey", demo_design())
    survey.is_public = True  # listed on the home page, so visitors can try it
    db.session.add(SurveyShare(survey_id=survey.id, user_id=users[Role.MANAGER].id))
    version = open_survey(survey)
    count = insert_synthetic_responses(survey, version, n_responses, seed)
    demo_recovery(survey, seed)
    return DemoResult(survey, True, count)


def _ensure_user(username: str, password: str, role: Role) -> User:
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        user = User(username=username, role=role.value)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
    return user


def insert_synthetic_responses(survey: Survey, version, n: int, seed: int,
                               end: datetime | None = None, batch_size: int = 5000) -> int:
    """Draw ``n`` responses from the model and bulk-insert them (one INSERT per batch)."""
    codebook = Codebook.from_json(version.codebook)
    frame = synthetic_frame(codebook, n, seed, end=end)
    names = codebook.names
    matrix = mark_not_asked(codebook, frame[names].to_numpy(dtype=ANSWER_DTYPE))
    languages = np.where(np.random.default_rng(seed + 1).random(n) < 0.6, "zh", "en")
    overall = frame["OVS1"] if "OVS1" in frame else pd.Series(np.nan, index=frame.index)
    comments = synthetic_comments(overall, pd.Series(languages, index=frame.index), seed + 2)
    rows = []
    for i, meta in enumerate(frame[["status", "started_at", "submitted_at",
                                    "duration_seconds"]].itertuples(index=False)):
        complete = meta.status == ResponseStatus.COMPLETE.value
        rows.append({
            "survey_id": survey.id, "version_id": version.id, "source": "demo",
            "status": meta.status, "language": str(languages[i]), "page": 0,
            "answers": matrix[i].tobytes(),
            "comment": comments.iloc[i] if complete else None,
            "started_at": meta.started_at.to_pydatetime(),
            "updated_at": (meta.submitted_at if complete else meta.started_at).to_pydatetime(),
            "submitted_at": meta.submitted_at.to_pydatetime() if complete else None,
            "duration_seconds": float(meta.duration_seconds) if complete else None,
        })
        if len(rows) >= batch_size:
            db.session.execute(insert(Response), rows)
            rows = []
    if rows:
        db.session.execute(insert(Response), rows)
    db.session.commit()
    # Rows inserted without the ORM: the moment cells take them in one sweep of the survey.
    moment_store.schedule(survey.id, full=True)
    _add_demo_contacts(survey, frame, seed)
    return n


def _add_demo_contacts(survey: Survey, frame, seed: int) -> None:
    """Contact details for the complete responses the model marked ``contact_ok``."""
    ids = db.session.execute(select(Response.id).where(Response.survey_id == survey.id)
                             .order_by(Response.id)).scalars().all()
    wanted = (frame["contact_ok"] & (frame["status"] == ResponseStatus.COMPLETE.value)).to_numpy()
    chosen = [rid for rid, keep in zip(ids[-len(frame):], wanted) if keep]
    if not chosen:
        return
    db.session.execute(insert(Contact), [
        {"response_id": rid, "name": f"Demo customer {rid}", "email": f"customer{rid}@example.com"}
        for rid in chosen])
    db.session.commit()




#: Root causes the demo team finds, with their shares (made up for the demo).
DEMO_ROOT_CAUSES = {"waiting_time": 0.35, "staff_attitude": 0.25, "price": 0.15,
                    "system_error": 0.15, "process": 0.10}


def demo_recovery(survey: Survey, seed: int) -> None:
    """Open the demo's cases (backdated to each response) and work the older ones.

    Synthetic, for the demo only: of the cases opened more than two days
    before the newest response, 85 % were contacted after 2-60 hours
    (uniform), 80 % of the contacted were resolved with a root cause drawn
    from :data:`DEMO_ROOT_CAUSES` and 15 % closed as unreachable; 60 % of
    the resolved customers answered the re-survey with satisfaction
    ``min(10, before + 2 + Poisson(2))``. Newer cases stay open, so the case
    list has work in it; some are overdue.
    """
    submitted = dict(db.session.execute(select(Response.id, Response.submitted_at).where(
        Response.survey_id == survey.id, Response.submitted_at.is_not(None))).all())
    opened_at = pd.Series({rid: cases._aware(moment) for rid, moment in submitted.items()})
    cases.open_cases_for_survey(survey, opened_at=opened_at)
    if not submitted:
        return
    newest = max(cases._aware(moment) for moment in submitted.values())
    rng = np.random.default_rng(seed + 3)
    causes = [cause for cause, share in DEMO_ROOT_CAUSES.items() if share > 0]
    weights = np.array([DEMO_ROOT_CAUSES[c] for c in causes])
    rows = db.session.execute(select(Case).where(Case.survey_id == survey.id).order_by(Case.id)).scalars()
    for case in rows:
        opened = cases._aware(case.opened_at)
        if (newest - opened).total_seconds() < 48 * 3600:
            continue
        if rng.random() >= 0.85:
            case.overdue = True
            case.events.append(CaseEvent(kind="overdue", at=cases._aware(case.due_at)))
            continue
        contact = opened + pd.Timedelta(hours=float(rng.uniform(2, 60))).to_pytimedelta()
        case.first_contact_at = contact
        case.events.append(CaseEvent(kind="status", old="open", new="contacted", at=contact,
                                     user_id=case.owner_id))
        outcome = rng.random()
        if outcome < 0.80:
            cause = str(rng.choice(causes, p=weights / weights.sum()))
            case.status, case.root_cause = "resolved", cause
            case.action_taken = "Called the customer, apologised and fixed the problem (demo)."
            case.closed_at = contact
            case.events.append(CaseEvent(kind="resolved", new=f"{cause}: {case.action_taken}",
                                         at=contact, user_id=case.owner_id))
            cases.issue_resurvey(case, contact)
            before = (case.scores or {}).get("overall")
            if case.resurvey_token and before is not None and rng.random() < 0.6:
                case.recovery_satisfaction = int(min(10, before + 2 + rng.poisson(2)))
                case.recovery_answered_at = contact + pd.Timedelta(days=1).to_pytimedelta()
        elif outcome < 0.95:
            case.status = "closed_unreachable"
            case.root_cause, case.action_taken = "other", "Three calls, no answer (demo)."
            case.closed_at = contact
        else:
            case.status = "contacted"
    db.session.commit()

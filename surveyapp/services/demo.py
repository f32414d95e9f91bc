"""The demo survey: users, a survey of every instrument, and synthetic responses.

The answers come from :mod:`analysis.synthetic` (its docstring states the model).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import insert, select

from analysis.instruments import Codebook
from analysis.synthetic import synthetic_frame

from ..extensions import db
from ..models import Contact, Response, ResponseStatus, Role, Survey, SurveyShare, User
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
    db.session.add(SurveyShare(survey_id=survey.id, user_id=users[Role.MANAGER].id))
    version = open_survey(survey)
    count = insert_synthetic_responses(survey, version, n_responses, seed)
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
    rows = []
    for i, meta in enumerate(frame[["status", "started_at", "submitted_at",
                                    "duration_seconds"]].itertuples(index=False)):
        complete = meta.status == ResponseStatus.COMPLETE.value
        rows.append({
            "survey_id": survey.id, "version_id": version.id, "source": "demo",
            "status": meta.status, "language": str(languages[i]), "page": 0,
            "answers": matrix[i].tobytes(),
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



"""Accounts an admin manages, and who a survey is shared with."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..models import Role, ShareRole, Survey, SurveyShare, User

PASSWORD_MIN_LENGTH = 8


class AccountError(ValueError):
    """An account or share change that cannot be made; the message is for the user."""


def all_users() -> list[User]:
    return list(db.session.execute(select(User).order_by(User.username)).scalars())


def user_named(username: str) -> User | None:
    return db.session.execute(select(User).where(User.username == username.strip())
                              ).scalar_one_or_none()


def create_account(username: str, role: Role | str, password: str, email: str | None = None) -> User:
    username = username.strip()
    role_value = role.value if isinstance(role, Role) else role
    if role_value not in {r.value for r in Role}:
        raise AccountError(_("Unknown role %(role)r.", role=role_value))
    if not username:
        raise AccountError(_("A user name is required."))
    if user_named(username) is not None:
        raise AccountError(_("The user name %(name)r is taken.", name=username))
    user = User(username=username, role=role_value, email=(email or "").strip() or None)
    set_password(user, password, commit=False)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(user: User, password: str, commit: bool = True) -> None:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise AccountError(_("The password needs at least %(n)s characters.", n=PASSWORD_MIN_LENGTH))
    user.set_password(password)
    if commit:
        db.session.commit()


def _other_admins(user: User) -> int:
    return db.session.execute(select(func.count(User.id)).where(
        User.role == Role.ADMIN.value, User.id != user.id)).scalar_one()


def change_role(user: User, role: Role | str, by: User) -> str:
    """Give ``user`` another role (their sessions end: models.User); returns the old role.

    Nobody changes their own role, and the last admin stays an admin, so the
    app always has someone who can manage accounts.
    """
    role_value = role.value if isinstance(role, Role) else role
    if role_value not in {r.value for r in Role}:
        raise AccountError(_("Unknown role %(role)r.", role=role_value))
    if user.id == by.id:
        raise AccountError(_("You cannot change your own role; ask another administrator."))
    if user.role == Role.ADMIN.value and role_value != Role.ADMIN.value and not _other_admins(user):
        raise AccountError(_("%(name)s is the last administrator.", name=user.username))
    old = user.role
    user.role = role_value
    return old


def delete_account(user: User, by: User) -> None:
    """Remove ``user`` (not yourself, not the last admin, not someone who owns surveys).

    Their shares and alerts go with them; cases, jobs and audit entries they
    own keep their rows without the link (the database sets it to NULL; the
    audit entry keeps the user name).
    """
    if user.id == by.id:
        raise AccountError(_("You cannot delete your own account."))
    if user.role == Role.ADMIN.value and not _other_admins(user):
        raise AccountError(_("%(name)s is the last administrator.", name=user.username))
    owned = db.session.execute(select(func.count(Survey.id)).where(Survey.owner_id == user.id)).scalar_one()
    if owned:
        raise AccountError(_("%(name)s owns %(n)s survey(s); they cannot be deleted while they do.",
                             name=user.username, n=owned))
    db.session.delete(user)


def shares_of(survey: Survey) -> list[SurveyShare]:
    return sorted(survey.shares, key=lambda share: share.user.username)


def _share_role(role: ShareRole | str) -> str:
    value = role.value if isinstance(role, ShareRole) else role
    if value not in {r.value for r in ShareRole}:
        raise AccountError(_("Unknown share role %(role)r.", role=value))
    return value


def share_survey(survey: Survey, username: str, role: ShareRole | str = ShareRole.VIEWER) -> SurveyShare:
    """Let ``username`` work on ``survey`` in ``role`` (only its owner or an admin may: the view checks)."""
    role_value = _share_role(role)
    user = user_named(username)
    if user is None:
        raise AccountError(_("There is no user %(name)r.", name=username.strip()))
    if user.id == survey.owner_id:
        raise AccountError(_("%(name)s owns this survey already.", name=user.username))
    if any(share.user_id == user.id for share in survey.shares):
        raise AccountError(_("The survey is shared with %(name)s already.", name=user.username))
    share = SurveyShare(survey_id=survey.id, user_id=user.id, role=role_value)
    survey.shares.append(share)
    db.session.commit()
    return share


def _share_with(survey: Survey, user_id: int) -> SurveyShare:
    share = next((share for share in survey.shares if share.user_id == user_id), None)
    if share is None:
        raise AccountError(_("The survey is not shared with that user."))
    return share


def change_share_role(survey: Survey, user_id: int, role: ShareRole | str) -> tuple[SurveyShare, str]:
    """Give the share of ``user_id`` another role; returns the share and its former role."""
    role_value = _share_role(role)
    share = _share_with(survey, user_id)
    former, share.role = share.role, role_value
    db.session.commit()
    return share, former


def unshare_survey(survey: Survey, user_id: int) -> SurveyShare:
    share = _share_with(survey, user_id)
    survey.shares.remove(share)
    db.session.commit()
    return share

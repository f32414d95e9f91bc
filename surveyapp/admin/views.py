"""Researcher and admin pages: survey list, builder, preview, open/close, invitations, users, shares.

Views are thin: the rules live in services.builder, services.invitations and
services.accounts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from ..access import may, require_survey_access, role_required, survey_role_label, visible_surveys
from ..extensions import db, limiter
from ..models import Role, Survey, User
from ..security import configured_limit
from ..services import audit
from ..services.accounts import (PASSWORD_MIN_LENGTH, AccountError, all_users, change_role,
                                 change_share_role, create_account, delete_account, set_password,
                                 share_survey, unshare_survey)
from ..services.builder import (DesignError, SurveySettings, check_design, create_from_builder,
                                generated_wording, instrument_catalogue, kano_features, kano_key,
                                save_survey, use_example_features)
from ..services.invitations import (ContactsError, InvitationStatus, generate_invitations,
                                    import_contacts, invitation_rows, links_csv, rows_carry_contacts,
                                    status_counts)
from ..services.jobs import start_job
# The preview pages the draft exactly as the respondent flow pages a frozen version.
from ..services.pages import instrument_labels, split_codebook
from ..services.surveys import SurveyError, close_survey, default_design, open_survey
from ..i18n import select_locale
from ..questionnaire.forms import FinalPageForm, build_form
from ..questionnaire.render import render_survey_page, render_welcome
from . import bp
from .overview import render_overview
from .forms import (ActionForm, ChangeRoleForm, CreateUserForm, GenerateInvitationsForm, NewSurveyForm,
                    ResetPasswordForm, SendInvitationsForm, SendRemindersForm, ShareForm,
                    ShareRoleForm, UploadContactsForm, builder_data, builder_form,
                    describe_condition, design_from_form, share_role_label)


def _editable_survey(slug: str) -> Survey:
    """The survey for a builder or invitations page: its owner, an admin or an editor share.

    These views need only a login: what one may do with a survey is the
    share's role (surveyapp.access), whatever the account's role.
    """
    return require_survey_access(slug, "edit")


@bp.app_context_processor
def survey_access_helpers():
    """Templates show only what the signed-in user may do with a survey (surveyapp.access)."""
    return {"may_survey": lambda survey, need: may(current_user, survey, need),
            "survey_role": lambda survey: share_role_label(survey_role_label(current_user, survey)),
            "share_role_label": share_role_label}


def _show_errors(errors: dict[str, str], form=None) -> None:
    """Attach each error to its form field when there is one, else flash it."""
    for key, message in errors.items():
        field = form[key] if form is not None and key in form else None
        if field is not None and not hasattr(field, "entries"):  # not a FieldList
            if message not in field.errors:
                field.errors = [*field.errors, message]
        else:
            flash(f"{key}: {message}" if key.startswith(("items-", "feature")) else message, "error")


@bp.route("/")
@role_required(Role.RESEARCHER)
def index():
    """The researcher's surveys: own and shared (every survey for an admin), each with the role held."""
    return render_template("admin/index.html", surveys=visible_surveys(current_user))


@bp.route("/surveys/new", methods=["GET", "POST"])
@role_required(Role.RESEARCHER)
def new_survey():
    catalogue = instrument_catalogue(default_design())
    form = NewSurveyForm()
    form.instruments.choices = [SelectChoice(choice.key, choice.title.get(select_locale(), choice.key))
                                for choice in catalogue]
    if form.validate_on_submit():
        design = default_design({"zh": (form.firm_zh.data or "").strip(),
                                 "en": (form.firm_en.data or "").strip()})
        design["firm"] = {lang: name for lang, name in design["firm"].items() if name}
        # KANO starts with no features: the example list is one click away in the builder.
        kano = kano_key()
        design["instruments"] = [{"id": key, "features": []} if key == kano else {"id": key}
                                 for key in form.instruments.data]
        try:
            survey = create_from_builder(current_user, form.slug.data.strip(),
                                         SurveySettings(form.title_zh.data, form.title_en.data),
                                         design)
        except DesignError as error:
            _show_errors(error.errors, form)
        else:
            flash(_("Survey created. Choose its questions, then preview and open it."), "info")
            return redirect(url_for("admin.edit_survey", slug=survey.slug))
    return render_template("admin/new.html", form=form)


@bp.route("/surveys/<slug>")
@login_required
def survey_overview(slug: str):
    """The survey's data page (versions, exports, shares): analysts, editors, the owner, admins."""
    return render_overview(require_survey_access(slug, "analyse"))


@bp.route("/surveys/<slug>/edit", methods=["GET", "POST"])
@login_required
def edit_survey(slug: str):
    survey = _editable_survey(slug)
    catalogue = instrument_catalogue(survey.design)
    features = kano_features(survey.design)
    saved_conditions = survey.design.get("conditions") or []
    if request.method == "POST":
        form = builder_form(catalogue, len(features), condition_rows=len(saved_conditions))
    else:
        form = builder_form(catalogue, len(features), builder_data(survey, catalogue, features),
                            condition_rows=len(saved_conditions))
    if request.method == "POST":
        fields_valid = form.validate_on_submit()
        try:
            design = design_from_form(form)
            if not fields_valid:
                # Check the design too, so every problem shows on the first round trip.
                check_design(design)
                raise DesignError({})
            version = save_survey(survey, form.settings(), design)
        except DesignError as error:
            _show_errors(error.errors, form)
            flash(_("Nothing was saved; see the marked fields."), "error")
        else:
            if version is not None:
                flash(_("Saved. New respondents answer version %(n)s; earlier responses keep "
                        "the version they answered.", n=version.number), "info")
            else:
                flash(_("Saved."), "info")
            return redirect(url_for("admin.edit_survey", slug=slug))
    try:
        wording = generated_wording(features, survey.design.get("firm"))
    except DesignError:
        wording = {}
    return render_template("admin/edit.html", survey=survey, form=form, catalogue=catalogue,
                           generated=wording,
                           conditions=[describe_condition(c) for c in saved_conditions])


@dataclass(frozen=True)
class PreviewVisit:
    """What survey/page.html needs of a visit: the preview has no invitation."""

    invitation: None = None


@bp.route("/surveys/<slug>/preview", methods=["GET", "POST"])
@login_required
def preview_survey(slug: str):
    """The respondent's pages built from the current (draft) design; nothing is stored.

    "Next" checks the page's answers as the live survey would and moves on;
    the answers themselves are dropped.
    """
    survey = _editable_survey(slug)
    try:
        codebook = check_design(survey.design)
    except DesignError as error:
        _show_errors(error.errors)
        return redirect(url_for("admin.edit_survey", slug=slug))
    pages = split_codebook(codebook, survey.design.get("servqual_layout", "blocks"),
                           instrument_labels(codebook))
    lang = select_locale()
    if request.method == "POST":
        index = request.form.get("page", type=int, default=1) - 1
        if not 0 <= index < len(pages):
            abort(400, description="unknown page number")
        page = pages[index]
        form = FinalPageForm() if page.is_final else \
            build_form(page.variables, lang, formdata=request.form)
        if request.form.get("action") == "back":
            return redirect(url_for("admin.preview_survey", slug=slug, p=max(index, 1)))
        if form.validate():
            if not page.is_final:
                return redirect(url_for("admin.preview_survey", slug=slug, p=index + 2))
            return render_template("admin/preview_done.html", survey=survey)
        else:
            flash(_("Preview: some answers are missing or not valid. Nothing was stored."), "error")
    elif request.args.get("p", type=int) == 0:
        return render_welcome(survey, survey.design, pages,
                              start_url=url_for("admin.preview_survey", slug=slug, p=1),
                              preview=True)
    else:
        index = min(max(request.args.get("p", type=int, default=1), 1), len(pages)) - 1
        page = pages[index]
        form = FinalPageForm(formdata=None) if page.is_final else \
            build_form(page.variables, lang, formdata=None)
        flash(_("Preview of the current design: answers are checked but never stored."), "info")
    return render_survey_page(survey, survey.design, pages, index, form,
                              action_url=url_for("admin.preview_survey", slug=slug),
                              visit=PreviewVisit(), preview=True)


@bp.route("/surveys/<slug>/kano-example", methods=["POST"])
@login_required
def use_kano_example(slug: str):
    """One click: the shipped example feature list becomes this survey's KANO features."""
    survey = _editable_survey(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        use_example_features(survey)
    except DesignError as error:
        _show_errors(error.errors)
    else:
        flash(_("The example features are in the list: reword them for your firm and save."), "info")
    return redirect(url_for("admin.edit_survey", slug=slug) + "#instrument-kano")


@bp.route("/surveys/<slug>/open", methods=["POST"])
@login_required
def open_survey_view(slug: str):
    survey = _editable_survey(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        check_design(survey.design)
        version = open_survey(survey)
    except DesignError as error:
        _show_errors(error.errors)
    except SurveyError as error:
        flash(str(error), "error")
    else:
        flash(_("The survey is open (version %(n)s).", n=version.number), "info")
    return redirect(url_for("admin.survey_overview", slug=slug))


@bp.route("/surveys/<slug>/close", methods=["POST"])
@login_required
def close_survey_view(slug: str):
    survey = _editable_survey(slug)
    if not ActionForm().validate_on_submit():
        abort(400)
    close_survey(survey)
    flash(_("The survey is closed."), "info")
    return redirect(url_for("admin.survey_overview", slug=slug))


@bp.route("/surveys/<slug>/invitations", methods=["GET"])
@login_required
def invitations(slug: str):
    survey = _editable_survey(slug)
    return _invitations_page(survey, GenerateInvitationsForm(), UploadContactsForm())


def _invitations_page(survey: Survey, generate_form, upload_form, problems=(), status=200,
                      remind_form=None):
    rows = invitation_rows(survey)
    return render_template("admin/invitations.html", survey=survey, rows=rows,
                           counts=status_counts(survey), InvitationStatus=InvitationStatus,
                           generate_form=generate_form, upload_form=upload_form,
                           send_form=SendInvitationsForm(formdata=None),
                           remind_form=remind_form or SendRemindersForm(formdata=None),
                           problems=problems), status


@bp.route("/surveys/<slug>/invitations/send", methods=["POST"])
@login_required
def send_invitations_view(slug: str):
    """E-mail the invitations not sent yet: a job on the queue (SMTP can be slow)."""
    survey = _editable_survey(slug)
    if not SendInvitationsForm().validate_on_submit():
        abort(400)
    job = start_job("invitation-mail", user=current_user, survey=survey,
                    params={"mode": "invitations", "base_url": request.url_root})
    return redirect(url_for("admin.job_page", job_id=job.id))


@bp.route("/surveys/<slug>/invitations/remind", methods=["POST"])
@login_required
def send_reminders_view(slug: str):
    survey = _editable_survey(slug)
    form = SendRemindersForm()
    if not form.validate_on_submit():
        return _invitations_page(survey, GenerateInvitationsForm(formdata=None),
                                 UploadContactsForm(formdata=None), status=400, remind_form=form)
    job = start_job("invitation-mail", user=current_user, survey=survey,
                    params={"mode": "reminders", "base_url": request.url_root,
                            "after_days": form.after_days.data, "max_reminders": form.max_reminders.data})
    return redirect(url_for("admin.job_page", job_id=job.id))


@bp.route("/surveys/<slug>/invitations/generate", methods=["POST"])
@login_required
def generate_invitations_view(slug: str):
    survey = _editable_survey(slug)
    form = GenerateInvitationsForm()
    if not form.validate_on_submit():
        return _invitations_page(survey, form, UploadContactsForm(), status=400)
    created = generate_invitations(survey, form.count.data)
    flash(_("%(n)s personal links created.", n=len(created)), "info")
    return redirect(url_for("admin.invitations", slug=slug))


@bp.route("/surveys/<slug>/invitations/upload", methods=["POST"])
@login_required
def upload_contacts_view(slug: str):
    survey = _editable_survey(slug)
    form = UploadContactsForm()
    if not form.validate_on_submit():
        return _invitations_page(survey, GenerateInvitationsForm(), form, status=400)
    try:
        created = import_contacts(survey, form.contacts.data.read())
    except ContactsError as error:
        flash(_("Nothing was imported: fix these lines and upload the file again."), "error")
        return _invitations_page(survey, GenerateInvitationsForm(), form,
                                 problems=error.problems, status=400)
    audit.record(audit.IMPORT, survey=survey, target=form.contacts.data.filename or None,
                 detail={"kind": "contacts", "imported": len(created)})
    flash(_("%(n)s personal links created from the contacts file.", n=len(created)), "info")
    return redirect(url_for("admin.invitations", slug=slug))


@bp.route("/surveys/<slug>/invitations.csv")
@login_required
def invitations_csv(slug: str):
    survey = _editable_survey(slug)
    rows = invitation_rows(survey)
    body = links_csv(survey, rows)
    # A links file with e-mail addresses or ids of the invited carries contact details.
    audit.record(audit.EXPORT, survey=survey,
                 detail={"format": "links-csv", "contact_details": rows_carry_contacts(rows),
                         "rows": len(rows)})
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d")
    return Response(body.encode("utf-8"), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="{survey.slug}-links-{stamp}.csv"'})


@bp.route("/surveys/<slug>/shares", methods=["POST"])
@login_required
def add_share(slug: str):
    """Share the survey in a role: its owner or an admin only (a share never re-shares)."""
    survey = require_survey_access(slug, "share")
    form = ShareForm()
    if form.validate_on_submit():
        try:
            share = share_survey(survey, form.username.data, form.role.data)
        except AccountError as error:
            flash(str(error), "error")
        else:
            audit.record(audit.SHARE_ADDED, survey=survey, target=f"user:{share.user.username}",
                         detail={"role": share.role})
            flash(_("Shared with %(name)s as %(role)s.", name=share.user.username,
                    role=share_role_label(share.role)), "info")
    else:
        flash(_("Give the user name to share with."), "error")
    return redirect(url_for("admin.survey_overview", slug=slug))


@bp.route("/surveys/<slug>/shares/<int:user_id>/role", methods=["POST"])
@login_required
def change_share(slug: str, user_id: int):
    survey = require_survey_access(slug, "share")
    form = ShareRoleForm(prefix=f"share{user_id}")
    if not form.validate_on_submit():
        abort(400)
    try:
        share, former = change_share_role(survey, user_id, form.role.data)
    except AccountError as error:
        flash(str(error), "error")
    else:
        audit.record(audit.SHARE_CHANGED, survey=survey, target=f"user:{share.user.username}",
               detail={"from": former, "to": share.role})
        flash(_("%(name)s is now %(role)s.", name=share.user.username, role=share_role_label(share.role)),
              "info")
    return redirect(url_for("admin.survey_overview", slug=slug))


@bp.route("/surveys/<slug>/shares/<int:user_id>/remove", methods=["POST"])
@login_required
def remove_share(slug: str, user_id: int):
    survey = require_survey_access(slug, "share")
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        share = unshare_survey(survey, user_id)
    except AccountError as error:
        flash(str(error), "error")
    else:
        audit.record(audit.SHARE_REMOVED, survey=survey, target=f"user:{share.user.username}",
                     detail={"role": share.role})
        flash(_("No longer shared with that user."), "info")
    return redirect(url_for("admin.survey_overview", slug=slug))


@bp.route("/users", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def users():
    form = CreateUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = create_account(form.username.data, form.role.data, form.password.data,
                                  form.email.data)
        except AccountError as error:
            form.username.errors.append(str(error))
            status = 400
        else:
            audit.record(audit.USER_CREATED, target=f"user:{user.id}",
                         detail={"username": user.username, "role": user.role})
            flash(_("Created %(role)s %(name)s.", role=user.role, name=user.username), "info")
            return redirect(url_for("admin.users"))
    elif request.method == "POST":
        status = 400
    accounts = all_users()
    reset_forms = {user.id: ResetPasswordForm(prefix=f"user{user.id}", formdata=None)
                   for user in accounts}
    role_forms = {user.id: ChangeRoleForm(prefix=f"role{user.id}", formdata=None, role=user.role)
                  for user in accounts}
    return render_template("admin/users.html", form=form, accounts=accounts,
                           reset_forms=reset_forms, role_forms=role_forms,
                           action_form=ActionForm()), status


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@limiter.limit(configured_limit("PASSWORD_RESET_RATE_LIMIT"))
@role_required(Role.ADMIN)
def reset_password(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = ResetPasswordForm(prefix=f"user{user.id}")
    if form.validate_on_submit():
        try:
            set_password(user, form.password.data)
        except AccountError as error:
            flash(str(error), "error")
        else:
            audit.record(audit.PASSWORD_RESET, target=f"user:{user.id}",
                         detail={"username": user.username})
            flash(_("New password set for %(name)s.", name=user.username), "info")
    else:
        flash(_("The new password needs at least %(n)s characters.", n=PASSWORD_MIN_LENGTH), "error")
    return redirect(url_for("admin.users"))


def _account_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id) if user_id < 2**31 else None
    if user is None:
        abort(404)
    return user


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@role_required(Role.ADMIN)
def change_user_role(user_id: int):
    user = _account_or_404(user_id)
    form = ChangeRoleForm(prefix=f"role{user.id}")
    if not form.validate_on_submit():
        abort(400)
    try:
        old = change_role(user, form.role.data, current_user)
    except AccountError as error:
        flash(str(error), "error")
    else:
        if old != user.role:
            audit.record(audit.ROLE_CHANGED, target=f"user:{user.id}", commit=False,
                         detail={"username": user.username, "old": old, "new": user.role})
        db.session.commit()
        flash(_("%(name)s is now %(role)s; their sessions have ended.", name=user.username,
                role=user.role), "info")
    return redirect(url_for("admin.users"))


@bp.route("/users/<int:user_id>/delete", methods=["POST"])
@role_required(Role.ADMIN)
def delete_user(user_id: int):
    user = _account_or_404(user_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    name, role = user.username, user.role
    try:
        delete_account(user, current_user)
    except AccountError as error:
        flash(str(error), "error")
    else:
        audit.record(audit.USER_DELETED, target=f"user:{user_id}", commit=False,
                     detail={"username": name, "role": role})
        db.session.commit()
        flash(_("Deleted %(name)s.", name=name), "info")
    return redirect(url_for("admin.users"))

"""The survey overview page of the admin, with its data panel (downloads and response import)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..i18n import select_locale
from ..models import Survey, SurveyStatus
from ..services.accounts import shares_of
from ..services.builder import DesignError, check_design, version_counts
from ..services.codebooks import survey_codebook
from ..services.imports import ImportProblem, ImportRejected, max_import_bytes
from ..services.invitations import InvitationStatus, status_counts
from ..widgets import add_segment_fields, segment_fields
from .forms import ActionForm, ExportForm, ImportForm, ShareForm, ShareRoleForm


@dataclass
class ExportsPanel:
    export_form: ExportForm
    segment_fields: list
    import_form: ImportForm
    problems: list[ImportProblem] = field(default_factory=list)
    problems_total: int = 0
    can_import: bool = True
    max_bytes: int = 0


def export_form(survey: Survey) -> tuple[ExportForm, list]:
    """The export form with one multiple choice per segment (profile) question of ``survey``."""

    class SurveyExportForm(ExportForm):
        pass

    attributes = add_segment_fields(SurveyExportForm, survey_codebook(survey), select_locale())
    form = SurveyExportForm(formdata=None)
    form.version.choices = [SelectChoice("", _("All versions"))] + [
        SelectChoice(str(version.number), str(version.number)) for version in survey.versions]
    return form, segment_fields(form, attributes)


def exports_panel(survey: Survey, import_form: ImportForm | None = None,
                  rejected: ImportRejected | None = None) -> ExportsPanel:
    form, segments = export_form(survey)
    return ExportsPanel(
        export_form=form, segment_fields=segments,
        import_form=import_form or ImportForm(formdata=None),
        problems=rejected.problems if rejected else [],
        problems_total=rejected.total if rejected else 0,
        can_import=survey.current_version is not None, max_bytes=max_import_bytes())


def design_problem(survey: Survey) -> str | None:
    """Why the stored design cannot open, shown on the overview (None if it can)."""
    try:
        check_design(survey.design)
    except DesignError as error:
        return "; ".join(error.errors.values())
    return None


def render_overview(survey: Survey, panel: ExportsPanel | None = None) -> str:
    """The overview page of ``survey``; ``panel`` carries a rejected import's problems."""
    return render_template(
        "admin/survey.html", survey=survey, versions=version_counts(survey),
        invitation_counts=status_counts(survey), InvitationStatus=InvitationStatus,
        shares=shares_of(survey), share_form=ShareForm(), action_form=ActionForm(),
        share_role_forms={share.user_id: ShareRoleForm(prefix=f"share{share.user_id}", formdata=None,
                                                       role=share.role)
                          for share in survey.shares},
        is_open=survey.status == SurveyStatus.OPEN.value,
        design_problem=design_problem(survey), panel=panel or exports_panel(survey))

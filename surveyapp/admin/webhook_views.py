"""A survey's webhook endpoints and their deliveries (services/webhooks.py has the rules)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..access import require_survey_access
from ..extensions import db
from ..models import WebhookDelivery, WebhookEndpoint
from ..services.webhooks import WebhookError, add_endpoint, deliveries_of, endpoints_of, replay
from . import bp
from .forms import ActionForm, WebhookForm


def _page(survey, form, status=200):
    return render_template("admin/webhooks.html", survey=survey, form=form, action_form=ActionForm(),
                           endpoints=endpoints_of(survey), deliveries=deliveries_of(survey)), status


@bp.route("/surveys/<slug>/webhooks", methods=["GET", "POST"])
@login_required
def webhooks(slug: str):
    survey = require_survey_access(slug, "edit")
    form = WebhookForm()
    if form.validate_on_submit():
        try:
            endpoint = add_endpoint(survey, form.url.data, form.events.data, current_user,
                                    allow_private=form.allow_private.data)
        except WebhookError as error:
            form.url.errors = [*form.url.errors, str(error)]
            return _page(survey, form, 400)
        flash(_("Endpoint added. Its signing secret is shown below; keep it with the receiver."), "info")
        return redirect(url_for("admin.webhooks", slug=slug, _anchor=f"endpoint-{endpoint.id}"))
    return _page(survey, form, 400 if form.is_submitted() else 200)


@bp.route("/surveys/<slug>/webhooks/<int:endpoint_id>/remove", methods=["POST"])
@login_required
def remove_webhook(slug: str, endpoint_id: int):
    survey = require_survey_access(slug, "edit")
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.survey_id != survey.id or not ActionForm().validate_on_submit():
        abort(404)
    db.session.delete(endpoint)
    db.session.commit()
    flash(_("Endpoint removed."), "info")
    return redirect(url_for("admin.webhooks", slug=slug))


@bp.route("/surveys/<slug>/webhooks/deliveries/<int:delivery_id>/replay", methods=["POST"])
@login_required
def replay_delivery(slug: str, delivery_id: int):
    survey = require_survey_access(slug, "edit")
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint.survey_id != survey.id or not ActionForm().validate_on_submit():
        abort(404)
    replay(delivery)
    flash(_("Delivery %(id)s sent again.", id=delivery.id), "info")
    return redirect(url_for("admin.webhooks", slug=slug, _anchor="deliveries"))

"""The OpenAPI 3.1 description of ``/api/v1``, built as data and served at ``/api/v1/openapi.json``.

tests/api/test_schemathesis.py generates requests from this document and
checks that the app answers as it says, so the two cannot drift apart.
"""
from __future__ import annotations

from typing import Any

MAX_PER_PAGE = 500
# Pages beyond this are refused (400): the database's OFFSET is a 64-bit integer, and no
# survey has a billion pages of anything.
MAX_PAGE = 1_000_000

_TEXT = {"type": "object", "properties": {"zh": {"type": "string"}, "en": {"type": "string"}},
         "required": ["zh", "en"]}
_NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
_COUNTS = {"type": "object", "required": ["complete", "partial"],
           "properties": {"complete": {"type": "integer", "minimum": 0},
                          "partial": {"type": "integer", "minimum": 0}}}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {"error": {
            "type": "object", "required": ["status", "title", "message"],
            "properties": {"status": {"type": "integer"}, "title": {"type": "string"},
                           "message": {"type": "string"}}}},
    },
    "SurveySummary": {
        "type": "object", "required": ["slug", "title", "status", "current_version", "responses"],
        "properties": {
            "slug": {"type": "string"},
            "title": _TEXT,
            "status": {"type": "string", "enum": ["draft", "open", "closed"]},
            "current_version": {"type": ["integer", "null"]},
            "responses": _COUNTS,
            "access": {
                "type": "object", "required": ["role", "may"],
                "description": "How you hold the survey (in the list): `role` is owner, admin, "
                               "or your share's role (viewer, analyst, editor); `may` what it "
                               "allows (view, analyse, edit, share).",
                "properties": {"role": {"type": "string",
                                        "enum": ["owner", "admin", "viewer", "analyst", "editor"]},
                               "may": {"type": "array", "items": {
                                   "type": "string", "enum": ["view", "analyse", "edit", "share"]}}}},
        },
    },
    "Version": {
        "type": "object", "required": ["number", "frozen_at", "variables", "complete", "partial"],
        "properties": {"number": {"type": "integer"}, "frozen_at": _NULLABLE_TIME,
                       "variables": {"type": "integer"},
                       "complete": {"type": "integer"}, "partial": {"type": "integer"}},
    },
    "Survey": {
        "allOf": [{"$ref": "#/components/schemas/SurveySummary"}, {
            "type": "object",
            "required": ["opens_at", "closes_at", "target_responses", "design", "versions"],
            "properties": {
                "opens_at": _NULLABLE_TIME, "closes_at": _NULLABLE_TIME,
                "target_responses": {"type": ["integer", "null"]},
                "design": {"type": "object", "description": "Instruments, items, firm name, "
                           "KANO features and layout as the researcher chose them."},
                "versions": {"type": "array", "items": {"$ref": "#/components/schemas/Version"}},
            }}],
    },
    "Variable": {
        "type": "object",
        "description": "One column of the response data (docs/data-model.md §2).",
        "required": ["name", "item", "facet", "instrument", "instrument_version", "kind",
                     "dimension", "scale", "text"],
        "properties": {
            "name": {"type": "string"}, "item": {"type": "string"},
            "facet": {"type": ["string", "null"]}, "instrument": {"type": "string"},
            "instrument_version": {"type": "integer"}, "kind": {"type": "string"},
            "dimension": {"type": "string"}, "parent": {"type": ["string", "null"]},
            "scale": {"type": "object"}, "text": {"type": "object"}, "label": {"type": "object"},
            "instruction": {"type": "object"}, "reverse": {"type": "boolean"},
            "required": {"type": "boolean"}, "segment": {"type": "boolean"},
            "weight_of": {"type": ["string", "null"]},
        },
    },
    "Response": {
        "type": "object",
        "required": ["id", "version", "status", "started_at", "submitted_at", "duration_seconds",
                     "contact_ok", "language", "comment", "answers"],
        "properties": {
            "id": {"type": "integer"}, "version": {"type": "integer"},
            "status": {"type": "string", "enum": ["complete", "partial"]},
            "started_at": _NULLABLE_TIME, "submitted_at": _NULLABLE_TIME,
            "duration_seconds": {"type": ["number", "null"]},
            "contact_ok": {"type": "boolean"},
            "language": {"type": "string"}, "comment": {"type": ["string", "null"]},
            "answers": {"type": "object",
                        "description": "Variable name -> answer code or number; null = missing. "
                                       "Only the variables of the response's version.",
                        "additionalProperties": {"type": ["number", "null"]}},
        },
    },
    "ResponsePage": {
        "type": "object",
        "required": ["page", "per_page", "total", "pages", "filter", "responses"],
        "properties": {
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
            "total": {"type": "integer", "minimum": 0}, "pages": {"type": "integer", "minimum": 1},
            "filter": {"type": "string"},
            "responses": {"type": "array", "items": {"$ref": "#/components/schemas/Response"}},
        },
    },
    "Analysis": {
        "type": "object", "required": ["survey", "filter", "n_total", "n_used", "skipped", "tables"],
        "properties": {
            "survey": {"type": "string"}, "filter": {"type": "string"},
            "n_total": {"type": "integer", "minimum": 0}, "n_used": {"type": "integer", "minimum": 0},
            "skipped": {"type": "object", "additionalProperties": {"type": "string"},
                        "description": "Sections not computed, with the reason."},
            "tables": {"type": "object",
                       "description": "Every analysis table (SERVQUAL, satisfaction ratio, KANO, "
                                      "reliability, regressions, mediation, ...) as rows.",
                       "additionalProperties": {"type": "array", "items": {"type": "object"}}},
            "csi_bootstrap": {
                "type": "object", "required": ["status"],
                "description": "Where the bootstrap SE and intervals of the CSI tables are (they are "
                               "null in `tables`): `status` `pending` with the `job` whose `url` to "
                               "poll (its result is a CSIBootstrap), or `not requested`. Present when "
                               "the CSI model was computed.",
                "properties": {"status": {"type": "string", "enum": ["pending", "not requested"]},
                               "job": {"type": "string"}, "url": {"type": "string"},
                               "n_boot": {"type": "integer", "minimum": 0},
                               "seed": {"type": ["integer", "null"]}}},
        },
    },
    "CSIBootstrap": {
        "type": "object",
        "required": ["survey", "filter", "computed_at", "data_changed", "n", "n_boot", "seed", "tables"],
        "description": "The bootstrap intervals of an analysis's CSI model (a `csi-bootstrap` job, "
                       "started by the analysis job), computed on the responses as they were at "
                       "`computed_at`; `data_changed` says whether they changed since the analysis.",
        "properties": {
            "survey": {"type": "string"}, "filter": {"type": "string"},
            "analysis_job": {"type": ["string", "null"]},
            "computed_at": {"type": "string", "format": "date-time"},
            "data_changed": {"type": "boolean"}, "note": {"type": "string"},
            "n": {"type": "integer", "minimum": 0}, "analysis_n": {"type": ["integer", "null"]},
            "n_boot": {"type": "integer", "minimum": 0}, "n_boot_failed": {"type": "integer", "minimum": 0},
            "seed": {"type": ["integer", "null"]}, "ci": {"type": "number"},
            "tables": {"type": "object",
                       "description": "csi_index, csi_paths, csi_r2 and csi_outer as in the Analysis, "
                                      "with the SE and intervals.",
                       "additionalProperties": {"type": "array", "items": {"type": "object"}}},
            "methods": {"type": "object"},
        },
    },
}

_NULLABLE_NUMBER = {"type": ["number", "null"]}
_NULLABLE_STRING = {"type": ["string", "null"]}
CASE_STATUSES = ["open", "in_progress", "contacted", "resolved", "closed_unreachable"]
ROOT_CAUSES = ["staff_attitude", "waiting_time", "product", "price", "process", "system_error",
               "communication", "other"]
SCHEMAS["Case"] = {
    "type": "object",
    "description": "A recovery case: one unhappy customer's response, worked until resolved. "
                   "`contact` is null unless you may see contact details (admins, the survey's "
                   "owner, managers it is shared with). `history` is in the single-case answer.",
    "required": ["id", "survey", "response_id", "status", "priority", "owner", "reasons", "scores",
                 "screening_flags", "comment", "churn", "opened_at", "due_at", "first_contact_at",
                 "closed_at", "overdue", "root_cause", "action_taken", "resurvey", "contact", "url"],
    "properties": {
        "id": {"type": "integer"}, "survey": {"type": "string"}, "response_id": {"type": "integer"},
        "status": {"type": "string", "enum": CASE_STATUSES},
        "priority": {"type": "string", "enum": ["high", "normal", "low"]},
        "owner": _NULLABLE_STRING, "reasons": {"type": "string"},
        "scores": {"type": "object", "additionalProperties": _NULLABLE_NUMBER},
        "screening_flags": {"type": "array", "items": {"type": "string"}},
        "comment": {"type": "object", "required": ["text", "label", "score", "emotions", "engine"],
                    "properties": {"text": _NULLABLE_STRING, "label": _NULLABLE_STRING,
                                   "score": _NULLABLE_NUMBER,
                                   "emotions": {"type": "array", "items": {"type": "string"}},
                                   "engine": {"type": "string"}}},
        "churn": {"type": "object", "required": ["risk", "band"],
                  "properties": {"risk": _NULLABLE_NUMBER, "band": _NULLABLE_STRING}},
        "opened_at": _NULLABLE_TIME, "due_at": _NULLABLE_TIME, "first_contact_at": _NULLABLE_TIME,
        "closed_at": _NULLABLE_TIME, "overdue": {"type": "boolean"},
        "root_cause": _NULLABLE_STRING, "action_taken": _NULLABLE_STRING,
        "resurvey": {"type": "object", "required": ["url", "sent_at", "satisfaction", "comment",
                                                    "answered_at"],
                     "properties": {"url": _NULLABLE_STRING, "sent_at": _NULLABLE_TIME,
                                    "satisfaction": {"type": ["integer", "null"]},
                                    "comment": _NULLABLE_STRING, "answered_at": _NULLABLE_TIME}},
        "contact": {"type": ["object", "null"], "properties": {
            "name": _NULLABLE_STRING, "email": _NULLABLE_STRING, "phone": _NULLABLE_STRING}},
        "url": {"type": "string"},
        "history": {"type": "array", "items": {
            "type": "object", "required": ["at", "user", "kind", "old", "new"],
            "properties": {"at": _NULLABLE_TIME, "user": _NULLABLE_STRING, "kind": {"type": "string"},
                           "old": _NULLABLE_STRING, "new": _NULLABLE_STRING}}},
    },
}
SCHEMAS["CasePage"] = {
    "type": "object", "required": ["page", "per_page", "total", "pages", "cases"],
    "properties": {
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
        "total": {"type": "integer", "minimum": 0}, "pages": {"type": "integer", "minimum": 1},
        "cases": {"type": "array", "items": {"$ref": "#/components/schemas/Case"}},
    },
}
SCHEMAS["CasePatch"] = {
    "type": "object", "minProperties": 1, "additionalProperties": False,
    "description": "What to change. Closing (`status` resolved or closed_unreachable) needs "
                   "`root_cause` and `action_taken`; every field is checked before anything changes.",
    "properties": {
        "owner": {"type": ["string", "null"], "description": "User name (the survey's owner or "
                  "someone it is shared with), or null to unassign."},
        "priority": {"type": "string", "enum": ["high", "normal", "low"]},
        "status": {"type": "string", "enum": CASE_STATUSES},
        "note": {"type": "string", "minLength": 1},
        "root_cause": {"type": "string", "enum": ROOT_CAUSES},
        "action_taken": {"type": "string", "minLength": 1},
    },
}

SCHEMAS["Job"] = {
    "type": "object", "required": ["id", "kind", "status", "progress", "url", "result_url"],
    "properties": {
        "id": {"type": "string"}, "kind": {"type": "string"},
        "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "progress": {"type": "number", "minimum": 0, "maximum": 1},
        "message": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]},
        "attempts": {"type": "integer", "minimum": 0},
        "result": {"type": ["object", "null"]},
        "created_at": {"type": ["string", "null"]}, "finished_at": {"type": ["string", "null"]},
        "url": {"type": "string", "description": "Poll this URL for the job's state."},
        "result_url": {"type": ["string", "null"],
                       "description": "Where the result is, once the job is done."},
    },
}

_ERROR = {"description": "Error", "content": {"application/json": {
    "schema": {"$ref": "#/components/schemas/Error"}}}}
# A survey or case that exists but is not yours answers 404 like one that does not exist,
# so the API does not tell which link names exist.
_ERRORS = {"401": {**_ERROR, "description": "Missing or unknown token"},
           "403": {**_ERROR, "description": "Your share of the survey does not allow this "
                                            "(e.g. responses need an analyst or editor share)"},
           "404": {**_ERROR, "description": "No such survey (or survey version), or not yours "
                                            "nor shared with you"}}

_CASE_ERRORS = {"401": _ERRORS["401"],
                "404": {**_ERROR, "description": "No such case, or its survey is not yours "
                                                 "nor shared with you"}}

PARAMETERS: dict[str, Any] = {
    "slug": {"name": "slug", "in": "path", "required": True,
             "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{1,62}$"}},
    "from": {"name": "from", "in": "query", "description": "Submitted on or after this day (UTC).",
             "schema": {"type": "string", "format": "date"}},
    "to": {"name": "to", "in": "query", "description": "Submitted on or before this day (UTC).",
           "schema": {"type": "string", "format": "date"}},
    "version": {"name": "version", "in": "query", "description": "Survey version number.",
                "schema": {"type": "integer", "minimum": 1}},
    "partial": {"name": "partial", "in": "query",
                "description": "Also unfinished responses (default: complete only).",
                "schema": {"type": "boolean"}},
    "page": {"name": "page", "in": "query",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1}},
    "per_page": {"name": "per_page", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": 50}},
}
_SEGMENT_NOTE = ("Segment filter: add `segment.VARIABLE=CODE[,CODE]` (repeatable), e.g. "
                 "`segment.PR_BRANCH=1,2`, to keep responses whose answer to VARIABLE is one "
                 "of the codes.")
_ANALYST_NOTE = ("The raw responses and comments: the survey's owner, an admin, or a share in the "
                 "analyst or editor role (a viewer share gets 403, as with the web exports). ")
_FILTERS = [{"$ref": f"#/components/parameters/{name}"} for name in ("from", "to", "version", "partial")]


def _ok(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def openapi_document() -> dict[str, Any]:
    slug = {"$ref": "#/components/parameters/slug"}
    case_id = {"name": "case_id", "in": "path", "required": True,
               "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
    job_id = {"name": "job_id", "in": "path", "required": True,
              "schema": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "surveyapp API", "version": "1.0.0",
            "description": "Surveys, codebooks, responses and analysis results. Authenticate "
                           "with `Authorization: Bearer <token>`; `flask users token NAME` "
                           "issues a token.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": {
            "/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "The OpenAPI document",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}},
            }},
            "/surveys": {"get": {
                "operationId": "listSurveys", "summary": "Surveys you own or that are shared with you",
                "responses": {
                    "200": {"description": "Surveys", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["surveys"],
                        "properties": {"surveys": {"type": "array", "items": {
                            "$ref": "#/components/schemas/SurveySummary"}}}}}}},
                    "401": _ERRORS["401"]},
            }},
            "/surveys/{slug}": {"get": {
                "operationId": "getSurvey", "summary": "A survey: design, versions, counts",
                "parameters": [slug],
                "responses": {"200": _ok("Survey", "The survey"), **_ERRORS},
            }},
            "/surveys/{slug}/codebook": {"get": {
                "operationId": "getCodebook",
                "summary": "The variables (columns) of a version, or of every version",
                "parameters": [slug, {"$ref": "#/components/parameters/version"}],
                "responses": {
                    "200": {"description": "Codebook", "content": {"application/json": {"schema": {
                        "type": "object", "required": ["variables"],
                        "properties": {"variables": {"type": "array", "items": {
                            "$ref": "#/components/schemas/Variable"}}}}}}},
                    "400": {**_ERROR, "description": "Unknown version"}, **_ERRORS},
            }},
            "/surveys/{slug}/responses": {"get": {
                "operationId": "listResponses", "summary": "Responses, paged and filtered",
                "description": _ANALYST_NOTE + _SEGMENT_NOTE,
                "parameters": [slug, *_FILTERS, {"$ref": "#/components/parameters/page"},
                               {"$ref": "#/components/parameters/per_page"}],
                "responses": {"200": _ok("ResponsePage", "One page of responses"),
                              "400": {**_ERROR, "description": "A parameter cannot be read"},
                              **_ERRORS},
            }},
            "/surveys/{slug}/analysis": {"get": {
                "operationId": "getAnalysis",
                "summary": "Start every analysis of the (filtered) responses as a job",
                "description": "The analysis runs on the job queue: the answer is 202 with the job "
                               "(its `url` to poll, header `Location` too). When the job is done, "
                               "its `result_url` gives the Analysis document. The CSI model's "
                               "bootstrap intervals are a job of their own, which the Analysis "
                               "names (`csi_bootstrap`). " + _ANALYST_NOTE
                               + _SEGMENT_NOTE,
                "parameters": [slug, *_FILTERS],
                "responses": {"202": _ok("Job", "The analysis job, started"),
                              "400": {**_ERROR, "description": "A parameter cannot be read"},
                              **_ERRORS},
            }},
            "/surveys/{slug}/cases": {"get": {
                "operationId": "listCases", "summary": "Recovery cases of a survey, paged",
                "parameters": [slug, {"name": "status", "in": "query",
                                      "schema": {"type": "string", "enum": CASE_STATUSES}},
                               {"$ref": "#/components/parameters/page"},
                               {"$ref": "#/components/parameters/per_page"}],
                "responses": {"200": _ok("CasePage", "One page of cases, most urgent first"),
                              "400": {**_ERROR, "description": "A parameter cannot be read"},
                              **_ERRORS},
            }},
            "/cases/{case_id}": {
                "get": {
                    "operationId": "getCase", "summary": "A case with its history",
                    "parameters": [case_id],
                    "responses": {"200": _ok("Case", "The case"), **_CASE_ERRORS},
                },
                "patch": {
                    "operationId": "updateCase",
                    "summary": "Assign, set priority or status, add a note, resolve",
                    "parameters": [case_id],
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/CasePatch"}}}},
                    "responses": {"200": _ok("Case", "The changed case"),
                                  "400": {**_ERROR, "description": "The change cannot be read"},
                                  "409": {**_ERROR, "description": "The workflow does not allow "
                                          "it (e.g. a status move, an owner outside the team)"},
                                  **_CASE_ERRORS},
                },
            },
            "/jobs/{job_id}": {"get": {
                "operationId": "getJob", "summary": "A job you started: state and progress",
                "parameters": [job_id],
                "responses": {"200": _ok("Job", "The job"),
                              "401": _ERRORS["401"],
                              "404": {**_ERROR, "description": "No such job, or not yours"}},
            }},
            "/jobs/{job_id}/result": {"get": {
                "operationId": "getJobResult", "summary": "The result of a finished job",
                "parameters": [job_id],
                "responses": {"200": {"description": "The result: an analysis job's Analysis, a "
                                                     "csi-bootstrap job's CSIBootstrap",
                                      "content": {"application/json": {"schema": {"anyOf": [
                                          {"$ref": "#/components/schemas/Analysis"},
                                          {"$ref": "#/components/schemas/CSIBootstrap"}]}}}},
                              "401": _ERRORS["401"],
                              "404": {**_ERROR, "description": "No such job or no result"},
                              "409": {**_ERROR, "description": "The job has not finished"}},
            }},
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
            "parameters": PARAMETERS,
        },
    }

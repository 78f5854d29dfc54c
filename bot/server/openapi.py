"""OpenAPI descriptions of the routes that read their request themselves.

Uploads stream their multipart body, Twilio's webhooks are checked against the raw
form, the console's routes take a bearer token: FastAPI cannot infer their inputs, so
they are written out here. The schema at ``/openapi.json`` then documents every route,
and the API fuzz test (``tests/e2e/test_api_fuzz.py``) generates requests for each.
"""

from __future__ import annotations

from typing import Any

BEARER: dict[str, Any] = {
    "name": "Authorization",
    "in": "header",
    "required": False,
    "description": "`Bearer TOKEN`: a conversation's token or an agent's session token.",
    "schema": {"type": "string"},
}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _json(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _form(properties: dict[str, Any], media: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {media: {"schema": {"type": "object", "properties": properties}}},
    }


TWILIO_FORM = _form(
    {
        "CallSid": {"type": "string"},
        "From": {"type": "string"},
        "To": {"type": "string"},
        "CallStatus": {"type": "string"},
    },
    "application/x-www-form-urlencoded",
)
TWILIO_SIGNATURE = {
    "name": "X-Twilio-Signature",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
}

ROUTES: dict[str, dict[str, Any]] = {
    "console_assets": {"parameters": [_path("name")]},
    "create_agent_account": {
        "parameters": [BEARER],
        "requestBody": _json(
            {
                "name": {"type": "string"},
                "password": {"type": "string"},
                "role": {"type": "string", "enum": ["agent", "admin"]},
            },
            ["name", "password"],
        ),
    },
    "report": {
        "parameters": [
            BEARER,
            {"name": "days", "in": "query", "required": False, "schema": {"type": "integer"}},
        ]
    },
    "conversation_turns": {"parameters": [BEARER, _path("conversation_id")]},
    "erase_conversation": {"parameters": [BEARER, _path("conversation_id")]},
    "create_upload": {
        "parameters": [BEARER],
        "requestBody": _form(
            {"file": {"type": "string", "format": "binary"}}, "multipart/form-data"
        ),
    },
    "get_upload": {"parameters": [BEARER, _path("upload_id")]},
    "voice": {"parameters": [TWILIO_SIGNATURE], "requestBody": TWILIO_FORM},
    "after_stream": {"parameters": [TWILIO_SIGNATURE], "requestBody": TWILIO_FORM},
}


def describe(name: str) -> dict[str, Any]:
    """The ``openapi_extra`` of the route whose endpoint is called ``name``."""
    return ROUTES.get(name, {})

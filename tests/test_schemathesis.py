"""schemathesis over the OpenAPI document, against Django's WSGI app and the test database, once with a ledger
token and once with a signed-in session (with its CSRF token): no server error, and every documented response
conforms to its schema. Sized (max_examples per operation) to stay within a few minutes."""

import os

import pytest
import schemathesis
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from assets.models import ApiToken
from tests.conftest import make_asset

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", 8))
CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(autouse=True)
def registry(world):
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    make_asset(world.yashio, "sewer_pipe", external_id="F-1")
    make_asset(world.yashio, "bridge", external_id="F-2")
    # As Django's test client does: the WSGI handler must not close the test's connection (and transaction).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _app():
    import django

    django.setup()
    from config.wsgi import application

    return application


# Loaded at collection (the document needs no database): one test per operation.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _app())


@pytest.fixture
def token_headers(world) -> dict:
    """A ledger token's header, made once for all the examples of an operation (issuing one per example cost more
    than the request)."""
    _t, key = ApiToken.issue(name="fuzz", municipality=world.yashio, source="daicho")
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def session_headers(world) -> dict:
    """A signed-in session's cookie with its CSRF token, made once for all the examples of an operation (no
    operation signs out)."""
    c = Client()
    c.force_login(world.alice)
    csrf = _get_new_csrf_string()
    return {"Cookie": f"sessionid={c.cookies['sessionid'].value}; csrftoken={csrf}", "X-CSRFToken": csrf}


SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@schema.parametrize()
@SETTINGS
def test_api_with_a_token(case, token_headers):
    case.call_and_validate(headers=dict(token_headers), checks=CHECKS)


@schema.parametrize()
@SETTINGS
def test_api_with_a_session(case, session_headers):
    case.call_and_validate(headers=dict(session_headers), checks=CHECKS)

"""The lab API's OpenAPI document: valid, generated from the request models, and the API checked against it."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error

from intake.models import SampleSource
from tests.support.factories import bearer

PATHS = {
    "/api/v1/samples": {"post"},
    "/api/v1/samples/{code}": {"get"},
    "/api/v1/samples/{code}/events": {"post"},
    "/api/v1/samples/{code}/profile": {"put"},
    "/api/v1/imports/genemapper": {"post"},
    "/api/v1/samples/{code}/y-str": {"put", "get"},
    "/api/v1/imports/genemapper/y-str": {"post"},
}


def test_the_document_is_valid_openapi_and_describes_exactly_the_lab_endpoints(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert {path: set(ops) for path, ops in document["paths"].items()} == PATHS
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    walk_in = document["paths"]["/api/v1/samples"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    name = walk_in["$ref"].rsplit("/", 1)[-1]
    source = document["components"]["schemas"][name]["properties"]["source"]
    resolved = (
        document["components"]["schemas"][source["$ref"].rsplit("/", 1)[-1]] if "$ref" in source else source
    )
    assert resolved["enum"] == [s.value for s in SampleSource]
    body = document["paths"]["/api/v1/imports/genemapper"]["post"]["requestBody"]
    assert "text/tab-separated-values" in body["content"]
    assert "/sms/inbound" not in document["paths"]


def test_no_generated_request_makes_the_api_fail_with_a_5xx(app, lab):
    # schemathesis.pytest.from_fixture relies on pytest internals that pytest 9 removed: drive each operation's
    # hypothesis strategy directly instead, with a live key on every request.
    app.config["LAB_API_RATE_LIMIT"] = "100000/minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(ops) for ops in PATHS.values())
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def call(case):
            case.call_and_validate(headers=bearer(lab[1]), checks=[not_a_server_error])

        call()

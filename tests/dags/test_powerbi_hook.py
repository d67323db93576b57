"""Power BI hook and operator against a local HTTP server following the documented contract
(other people's refreshes in the history, 400 on a concurrent refresh POST, every final
status, identity platform AADSTS errors, 429 and 503 on reads; see ``powerbi_server``).

Connections reach the hook the way they do in a deployment without a metadata database:
as ``AIRFLOW_CONN_<CONN_ID>`` JSON in the environment, read by ``BaseHook.get_connection``.
Waits go through an injected clock, so retries and polling cost no wall time.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from typing import Any, cast

import pytest
from airflow.sdk import BaseHook, Context
from airflow.sdk.exceptions import AirflowSkipException
from powerbi_server import FakePowerBIServer

from orchestration.powerbi import (
    PowerBIAPIError,
    PowerBIAuthError,
    PowerBIConnectionConfig,
    PowerBIHook,
    PowerBIRefreshBusy,
    PowerBIRefreshFailed,
    PowerBIRefreshOperator,
    PowerBIRefreshOutcomeUnknown,
    PowerBIRefreshTimeout,
    PowerBIServerError,
    PowerBIThrottledError,
    RetrySettings,
)

pytestmark = pytest.mark.timeout(60)

CONN_ID = "powerbi_test"
CONN_ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"
RETRIES = RetrySettings(max_attempts=4, backoff_initial_s=0.5, backoff_max_s=4.0)
OLD_SECRET = secrets.token_urlsafe(16)
"""A client secret that is no longer the app's (made up at run time)."""


class FakeClock:
    """Monotonic clock whose ``sleep`` only moves time forward and records the wait."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[FakePowerBIServer]:
    """A running server; the ``knobs`` decorator below sets its scenario."""
    knobs: dict[str, Any] = getattr(request, "param", {})
    with FakePowerBIServer(**knobs) as running:
        yield running


@pytest.fixture
def connection(server: FakePowerBIServer, monkeypatch: pytest.MonkeyPatch) -> FakePowerBIServer:
    """Expose the server to Airflow as connection ``powerbi_test``."""
    monkeypatch.setenv(CONN_ENV, server.connection_json())
    return server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hook(connection: FakePowerBIServer, clock: FakeClock) -> Iterator[PowerBIHook]:
    with PowerBIHook(CONN_ID, clock=clock, sleep=clock.sleep, retry_settings=RETRIES) as h:
        yield h


def knobs(**values: Any) -> pytest.MarkDecorator:
    """Configure the ``server`` fixture of one test."""
    return pytest.mark.parametrize("server", [values], indirect=True, ids=[""])


def test_env_connection_is_visible_to_base_hook_outside_a_task(
    connection: FakePowerBIServer,
) -> None:
    conn = BaseHook.get_connection(CONN_ID)

    assert conn.login == connection.client_id
    assert conn.extra_dejson["dataset_id"] == connection.dataset_id


def test_refresh_completes_and_returns_the_final_entry(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    request_id = hook.trigger_refresh()
    entry = hook.wait_for_refresh(request_id, timeout_s=60, poll_interval_s=5)

    assert entry["status"] == "Completed"
    assert entry["requestId"] == request_id
    assert server.accepted_request_ids == [request_id]
    (post,) = server.refresh_posts
    assert json.loads(post.body) == {"notifyOption": "NoNotification"}
    assert post.headers["Content-Type"] == "application/json"
    assert [get.query for get in server.history_gets] == [{"$top": ["10"]}] * 3
    assert clock.sleeps == [5, 5]


@knobs(final_status="Failed")
def test_failed_refresh_raises_with_the_service_message(hook: PowerBIHook) -> None:
    request_id = hook.trigger_refresh()

    with pytest.raises(PowerBIRefreshFailed) as caught:
        hook.wait_for_refresh(request_id, timeout_s=60, poll_interval_s=1)

    assert caught.value.status == "Failed"
    assert caught.value.request_id == request_id
    message = str(caught.value)
    assert "ModelRefreshFailed_CredentialsNotSpecified" in message
    assert "The credentials of the data source are missing." in message


@knobs(throttle_posts=2, retry_after_s=7)
def test_throttled_post_honours_retry_after_and_ends_with_one_accepted_post(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    request_id = hook.trigger_refresh()

    assert clock.sleeps == [7, 7]
    assert len(server.refresh_posts) == 3
    assert server.accepted_request_ids == [request_id]


@knobs(throttle_posts=100, retry_after_s=2)
def test_throttled_post_retries_are_bounded(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    with pytest.raises(PowerBIThrottledError, match="HTTP 429"):
        hook.trigger_refresh()

    assert len(server.refresh_posts) == RETRIES.max_attempts
    assert clock.sleeps == [2] * (RETRIES.max_attempts - 1)
    assert server.accepted_request_ids == []


@knobs(fail_gets=2)
def test_history_get_5xx_is_retried_with_backoff_then_succeeds(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    request_id = hook.trigger_refresh()

    entry = hook.find_refresh(request_id)

    assert entry is not None
    assert entry["requestId"] == request_id
    assert len(server.history_gets) == 3
    assert clock.sleeps == [0.5, 1.0]


@knobs(fail_gets=100)
def test_history_get_5xx_retries_are_bounded(hook: PowerBIHook, server: FakePowerBIServer) -> None:
    with pytest.raises(PowerBIServerError, match="HTTP 503"):
        hook.get_refreshes()

    assert len(server.history_gets) == RETRIES.max_attempts


@knobs(post_error_status=503)
def test_5xx_on_post_raises_without_a_second_post(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    with pytest.raises(PowerBIRefreshOutcomeUnknown, match="refresh history"):
        hook.trigger_refresh()

    assert len(server.refresh_posts) == 1
    assert clock.sleeps == []


@knobs(
    post_error_status=400,
    post_error_body={"error": {"code": "InvalidRequest", "message": "Dataset is not refreshable"}},
)
def test_4xx_on_post_raises_with_the_service_error(
    hook: PowerBIHook, server: FakePowerBIServer
) -> None:
    with pytest.raises(PowerBIAPIError) as caught:
        hook.trigger_refresh()

    assert caught.value.http_status == 400
    assert "InvalidRequest: Dataset is not refreshable" in str(caught.value)
    assert len(server.refresh_posts) == 1


@knobs(never_complete=True)
def test_refresh_that_never_ends_raises_timeout(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    request_id = hook.trigger_refresh()

    with pytest.raises(PowerBIRefreshTimeout) as caught:
        hook.wait_for_refresh(request_id, timeout_s=120, poll_interval_s=30)

    assert caught.value.last_status == "Unknown"
    assert sum(clock.sleeps) == 120
    assert len(server.history_gets) == 5
    assert len(server.refresh_posts) == 1


@knobs(omit_request_id_header=True)
def test_request_id_falls_back_to_x_ms_request_id(
    hook: PowerBIHook, server: FakePowerBIServer
) -> None:
    assert hook.trigger_refresh() == server.accepted_request_ids[0]


def test_token_is_requested_once_and_cached_across_calls(
    hook: PowerBIHook, server: FakePowerBIServer
) -> None:
    request_id = hook.trigger_refresh()
    hook.wait_for_refresh(request_id, timeout_s=60, poll_interval_s=1)
    hook.get_refreshes()

    assert len(server.token_requests) == 1
    api_calls = server.refresh_posts + server.history_gets
    assert len(api_calls) == 5
    assert all(r.headers["Authorization"] == "Bearer <redacted>" for r in api_calls)


@knobs(token_expires_in=600)
def test_token_is_renewed_shortly_before_it_expires(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    hook.get_refreshes()
    clock.now += 299
    hook.get_refreshes()
    assert len(server.token_requests) == 1

    clock.now += 2
    hook.get_refreshes()
    assert len(server.token_requests) == 2


def test_no_token_or_secret_appears_in_logs(
    hook: PowerBIHook, server: FakePowerBIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    request_id = hook.trigger_refresh()
    hook.wait_for_refresh(request_id, timeout_s=60, poll_interval_s=1)

    assert "token acquired, expires in 3600 s" in caplog.text
    assert server.issued_tokens
    for token in server.issued_tokens:
        assert token not in caplog.text
    assert server.client_secret not in caplog.text


def test_explicit_config_needs_no_airflow_connection(
    server: FakePowerBIServer, clock: FakeClock
) -> None:
    config = PowerBIConnectionConfig(
        client_id=server.client_id,
        client_secret=server.client_secret,
        tenant_id=server.tenant_id,
        group_id=server.group_id,
        dataset_id=server.dataset_id,
        api_base_url=server.api_base_url,
        authority_url=server.base_url,
    )

    with PowerBIHook("not_defined_anywhere", config=config, sleep=clock.sleep) as hook:
        request_id = hook.trigger_refresh()

    assert server.accepted_request_ids == [request_id]
    assert server.client_secret not in repr(config)


def test_operator_skips_with_a_clear_line_when_the_connection_is_missing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_POWERBI_DEFAULT", raising=False)
    caplog.set_level(logging.INFO, logger="orchestration.powerbi")
    operator = PowerBIRefreshOperator(task_id="refresh_powerbi")

    with pytest.raises(AirflowSkipException):
        operator.execute(cast(Context, {}))

    expected = "Power BI refresh skipped: connection 'powerbi_default' is not configured"
    skip_lines = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert skip_lines == [expected]


def test_operator_skips_when_the_connection_lacks_the_dataset(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(
        CONN_ENV,
        json.dumps(
            {
                "conn_type": "generic",
                "login": "client",
                "password": secrets.token_urlsafe(16),
                "extra": {"tenant_id": "t", "group_id": "g"},
            }
        ),
    )
    caplog.set_level(logging.INFO, logger="orchestration.powerbi")
    operator = PowerBIRefreshOperator(task_id="refresh_powerbi", conn_id=CONN_ID)

    with pytest.raises(AirflowSkipException, match="dataset_id"):
        operator.execute(cast(Context, {}))

    assert f"Power BI refresh skipped: connection '{CONN_ID}' is not configured" in caplog.text


def test_operator_refreshes_and_returns_a_summary(
    connection: FakePowerBIServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="orchestration.powerbi")
    operator = PowerBIRefreshOperator(
        task_id="refresh_powerbi", conn_id=CONN_ID, timeout_s=10, poll_interval_s=0.01
    )

    result = operator.execute(cast(Context, {}))

    (request_id,) = connection.accepted_request_ids
    assert result["request_id"] == request_id
    assert result["status"] == "Completed"
    assert isinstance(result["seconds"], float)
    assert f"Power BI refresh {request_id} finished with status Completed" in caplog.text


# -- the documented contract: exact tracking, concurrency, statuses, errors ------------


@knobs(scheduled_after_ours=True)
def test_refresh_hidden_under_a_newer_scheduled_refresh_is_followed_to_completed(
    hook: PowerBIHook, server: FakePowerBIServer
) -> None:
    request_id = hook.trigger_refresh()

    entry = hook.wait_for_refresh(request_id, timeout_s=600, poll_interval_s=30)

    assert entry["requestId"] == request_id
    assert entry["status"] == "Completed"
    newest = server.history()[0]
    assert (newest["refreshType"], newest["status"]) == ("Scheduled", "Unknown")
    assert server.accepted_request_ids == [request_id]


@knobs(scheduled_after_ours=True, final_status="Failed")
def test_failed_refresh_hidden_under_a_newer_one_is_reported_failed_not_timed_out(
    hook: PowerBIHook, server: FakePowerBIServer
) -> None:
    request_id = hook.trigger_refresh()

    with pytest.raises(PowerBIRefreshFailed) as caught:
        hook.wait_for_refresh(request_id, timeout_s=600, poll_interval_s=30)

    assert caught.value.status == "Failed"
    assert "ModelRefreshFailed_CredentialsNotSpecified" in str(caught.value)
    assert server.history()[0]["refreshType"] == "Scheduled"


@pytest.mark.parametrize(
    "server", [{"final_status": "Disabled"}, {"final_status": "Cancelled"}], indirect=True
)
def test_disabled_or_cancelled_refresh_raises_one_line_with_its_status(
    hook: PowerBIHook, server: FakePowerBIServer
) -> None:
    request_id = hook.trigger_refresh()

    with pytest.raises(PowerBIRefreshFailed) as caught:
        hook.wait_for_refresh(request_id, timeout_s=600, poll_interval_s=30)

    message = str(caught.value)
    assert caught.value.status == server.final_status
    assert message == (
        f"Power BI refresh {request_id} ended {server.final_status}: the service gave no reason"
    )


def test_other_peoples_refreshes_are_never_taken_for_ours(
    hook: PowerBIHook, server: FakePowerBIServer
) -> None:
    statuses = [(e["refreshType"], e["status"]) for e in server.history()]
    assert statuses == [("OnDemand", "Failed"), ("Scheduled", "Completed")]

    with pytest.raises(PowerBIRefreshTimeout) as caught:
        hook.wait_for_refresh("not-a-request-of-ours", timeout_s=60, poll_interval_s=30)

    assert caught.value.last_status == "NotListedYet"
    assert "was not among the newest 10 refresh history entries" in str(caught.value)
    assert "keeps running" not in str(caught.value)


@knobs(running_other_ticks=3)
def test_post_while_another_refresh_runs_asks_again_then_starts_ours_once(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    request_id = hook.trigger_refresh(busy_timeout_s=300, poll_interval_s=30)

    assert len(server.refresh_posts) == 4
    assert clock.sleeps == [30, 30, 30]
    assert server.accepted_request_ids == [request_id]
    entry = hook.wait_for_refresh(request_id, timeout_s=300, poll_interval_s=30)
    assert entry["status"] == "Completed"


@knobs(running_other_ticks=-1)
def test_post_while_another_refresh_runs_fails_clearly_without_a_wait(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    with pytest.raises(PowerBIRefreshBusy) as caught:
        hook.trigger_refresh()

    message = str(caught.value)
    assert caught.value.http_status == 400
    assert "Another refresh request is already executing" in message
    assert "RETAIL_POWERBI_TIMEOUT_S" in message
    assert "\n" not in message
    assert len(server.refresh_posts) == 1
    assert server.accepted_request_ids == []
    assert clock.sleeps == []


@knobs(running_other_ticks=-1)
def test_waiting_for_another_refresh_to_end_is_bounded(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    with pytest.raises(PowerBIRefreshBusy, match="none of ours was started after waiting 90 s"):
        hook.trigger_refresh(busy_timeout_s=90, poll_interval_s=30)

    assert len(server.refresh_posts) == 4
    assert clock.sleeps == [30, 30, 30]
    assert server.accepted_request_ids == []


@knobs(throttle_gets=1, fail_gets=1, retry_after_s=7)
def test_history_read_429_waits_retry_after_and_503_backs_off(
    hook: PowerBIHook, server: FakePowerBIServer, clock: FakeClock
) -> None:
    entries = hook.get_refreshes()

    assert len(entries) == 2
    assert clock.sleeps == [7, 1.0]
    assert len(server.history_gets) == 3


@pytest.mark.parametrize(
    ("override", "code", "setting"),
    [
        ({"tenant_id": "not-our-tenant"}, "AADSTS90002", "set extra tenant_id"),
        ({"password": OLD_SECRET}, "AADSTS7000215", "set password"),
        ({"login": "some-other-app"}, "AADSTS700016", "set login"),
    ],
    ids=["unknown-tenant", "wrong-secret", "unknown-client-id"],
)
def test_token_error_fails_the_task_with_one_line_naming_the_setting(
    server: FakePowerBIServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    override: dict[str, str],
    code: str,
    setting: str,
) -> None:
    monkeypatch.setenv(CONN_ENV, server.connection_json(**override))
    caplog.set_level(logging.DEBUG)
    operator = PowerBIRefreshOperator(task_id="refresh_powerbi", conn_id=CONN_ID)

    with pytest.raises(PowerBIAuthError) as caught:
        operator.execute(cast(Context, {}))

    message = str(caught.value)
    assert code in message
    assert f"Fix connection '{CONN_ID}': {setting}" in message
    assert "correlation id" in message
    assert "\n" not in message and "\r" not in message
    assert server.client_secret not in message + caplog.text
    assert OLD_SECRET not in message + caplog.text
    assert len(server.token_requests) == 1
    assert server.refresh_posts == []


@knobs(running_other_ticks=2, scheduled_after_ours=True)
def test_operator_waits_for_a_running_refresh_and_follows_ours_past_a_newer_one(
    connection: FakePowerBIServer,
) -> None:
    operator = PowerBIRefreshOperator(
        task_id="refresh_powerbi", conn_id=CONN_ID, timeout_s=30, poll_interval_s=0.01
    )

    result = operator.execute(cast(Context, {}))

    (request_id,) = connection.accepted_request_ids
    assert result["request_id"] == request_id
    assert result["status"] == "Completed"
    assert len(connection.refresh_posts) == 3
    newest = connection.history()[0]
    assert (newest["refreshType"], newest["status"]) == ("Scheduled", "Unknown")

"""Two function apps resolving at once in one process (as the local runtime runs them) each see their own event.

Powertools keeps the current event on its shared router class; `hrms.http.Api` pins it per instance.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from hrms.http.api import Api


@pytest.fixture
def fast_thread_switching() -> Iterator[None]:
    """Switch threads as often as possible, so an interleaving that exists shows up."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _event(path: str, tag: str) -> dict[str, Any]:
    return {
        "path": path,
        "resource": path,
        "httpMethod": "GET",
        "headers": {},
        "queryStringParameters": {"tag": tag},
        "requestContext": {"stage": "v1", "path": path},
    }


def _echo_app(name: str) -> Api:
    """A function app whose route answers with its path parameter and the `tag` query parameter."""
    app = Api(public=True)

    @app.get(f"/{name}/<item>")
    def echo(item: str) -> dict[str, Any]:
        return {"item": item, "tag": app.current_event.get_query_string_value("tag")}

    return app


def test_concurrent_resolvers_never_see_each_others_events(fast_thread_switching: None) -> None:
    apps = {name: _echo_app(name) for name in ("a", "b")}
    wrong: list[str] = []

    def hammer(name: str) -> None:
        for i in range(400):
            response = apps[name].resolve(_event(f"/{name}/{i}", f"{name}{i}"), None)  # type: ignore[arg-type]
            body = response["body"].replace(" ", "")
            if response["statusCode"] != 200 or f'"tag":"{name}{i}"' not in body or f'"item":"{i}"' not in body:
                wrong.append(f"{name}{i}: {response['statusCode']} {body[:80]}")

    threads = [threading.Thread(target=hammer, args=(name,)) for name in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
from aiohttp import web
from aiohttp.test_utils import TestClient, make_mocked_request

from config import Event
from web.errors import error_pages

Client = TestClient[web.Request, web.Application]


async def test_schedule_page_lists_every_session(client: Client, reference_event: Event) -> None:
    response = await client.get("/")
    assert response.status == 200
    assert response.content_type == "text/html"
    html = await response.text()
    for session in reference_event.sessions:
        assert f'data-session="{session.id}"' in html
    assert "Asia/Shanghai (UTC+08:00)" in html
    # Titles are escaped, never markup.
    assert "&#34;Huacheng Night&#34; Exchange Meeting" in html


async def test_schedule_page_for_one_venue(client: Client) -> None:
    html = await (await client.get("/?venue=jp")).text()
    assert 'data-session="jp-tokyo-exchange"' in html
    assert 'data-session="chunhui-cup-finals"' not in html
    missing = await client.get("/?venue=mars")
    assert missing.status == 404
    assert "There is no venue" in await missing.text()


async def test_api_schedule(client: Client, reference_event: Event) -> None:
    response = await client.get("/api/schedule")
    assert response.status == 200
    body = await response.json()
    assert body["event"] == {
        "id": "coet2018",
        "name": str(reference_event.name),
        "names": reference_event.name.as_dict(),
        "default_language": "en",
        "time_zone": "Asia/Shanghai",
    }
    assert len(body["sessions"]) == len(reference_event.sessions)
    opening = next(s for s in body["sessions"] if s["id"] == "opening")
    assert opening["start"] == "2018-12-21T01:00:00Z"
    assert opening["start_local"] == "2018-12-21T09:00:00+08:00"
    assert opening["part"] == "anniversary"
    assert {v["id"] for v in body["venues"]} == {"gz", "us", "eu", "jp", "kr", "cis"}


async def test_api_schedule_for_a_venue(client: Client) -> None:
    body = await (await client.get("/api/schedule?venue=gz")).json()
    assert {"us-silicon-valley-exchange", "opening"} <= {s["id"] for s in body["sessions"]}
    missing = await client.get("/api/schedule?venue=mars")
    assert missing.status == 404
    assert (await missing.json())["detail"] == "unknown venue 'mars'"


async def test_healthz(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["event"] == "coet2018"
    assert body["uptime_seconds"] >= 0


async def test_metrics_are_prometheus_text(client: Client) -> None:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert "process_resident_memory_bytes" in text
    assert 'venuebridge_info{event="coet2018"' in text
    # One worker (the default) reports itself as worker 0, with no subscriber yet.
    assert 'venuebridge_worker_cpu_seconds_total{worker="0"}' in text
    assert 'venuebridge_worker_subscribers{worker="0"} 0.0' in text


async def test_unknown_path_is_a_404_page(client: Client) -> None:
    response = await client.get("/no/such/page")
    assert response.status == 404
    assert response.content_type == "text/html"
    assert "Nothing lives at /no/such/page." in await response.text()
    api = await client.get("/api/nothing")
    assert api.status == 404
    assert (await api.json())["error"] == "Not Found"


async def test_static_files_are_served(client: Client) -> None:
    response = await client.get("/static/schedule.js")
    assert response.status == 200
    assert "./lib/time.js" in await response.text()
    shared = await client.get("/static/lib/time.js")
    assert shared.status == 200
    assert "Intl.DateTimeFormat" in await shared.text()


async def test_a_crash_is_a_500_without_internals(app: web.Application) -> None:
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internals")

    # The router is frozen once the app runs, so drive the middleware directly.
    response = await error_pages(make_mocked_request("GET", "/boom", app=app), boom)
    assert isinstance(response, web.Response)
    assert response.status == 500
    assert response.text is not None
    assert "secret internals" not in response.text
    assert "Something went wrong on our side." in response.text


async def test_venue_calendar_parses_back_in_the_venue_zone(client: Client) -> None:
    response = await client.get("/api/venues/us/schedule.ics")
    assert response.status == 200
    assert response.content_type == "text/calendar"
    calendar = icalendar.Calendar.from_ical(await response.read())
    assert [tz.tz_name for tz in calendar.timezones] == ["America/Los_Angeles"]
    events = {e["UID"]: e for e in calendar.events}
    opening = events["opening.us@coet2018.venuebridge"]
    assert opening.start == datetime(2018, 12, 20, 17, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert opening.start.tzinfo is not None
    assert str(opening.start.tzinfo) == "America/Los_Angeles"
    assert opening.end.astimezone(UTC) == datetime(2018, 12, 21, 1, 50, tzinfo=UTC)
    assert "Watch: http://127.0.0.1:" in str(opening["DESCRIPTION"])
    assert "us-silicon-valley-exchange.us@coet2018.venuebridge" in events
    missing = await client.get("/api/venues/mars/schedule.ics")
    assert missing.status == 404

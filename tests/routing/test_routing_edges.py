"""Routing over the websocket and HTTP, records exports and the director's pages."""

from __future__ import annotations

import csv
import io

from tests.control.support import Node
from tests.helpers import eventually


def venue_row(matrix: dict, venue: str) -> dict:  # type: ignore[type-arg]
    return next(v for v in matrix["venues"] if v["venue"] == venue)


async def test_matrix_is_public_and_directors_route_over_http(node: Node) -> None:
    http = node.http
    matrix = await (await http.get("/api/routing")).json()
    assert {v["venue"] for v in matrix["venues"]} == {"gz", "us", "eu", "jp", "kr", "cis"}
    assert all(v["automation"] == "on" for v in matrix["venues"])

    path = "/api/venues/jp/route"
    assert (await http.post(path, json={"channel": "gz-hall-3"})).status == 401
    operator = {"Authorization": f"Bearer {node.token('operator', venue='jp')}"}
    assert (await http.post(path, json={"channel": "gz-hall-3"}, headers=operator)).status == 403
    director = {"Authorization": f"Bearer {node.token('director', 'Director Wang')}"}
    response = await http.post(path, json={"channel": "gz-hall-3"}, headers=director)
    assert response.status == 202, await response.text()
    assert (await response.json())["routed"] == "gz-hall-3"
    jp = venue_row(await (await http.get("/api/routing")).json(), "jp")
    assert jp["requested"]["channel"] == "gz-hall-3"
    assert jp["requested"]["by"] == "Director Wang"
    assert jp["held_by_director"] is True
    # Nothing publishes gz-hall-3, so no cut has happened: the route is not taken.
    assert jp["on_air"] is None
    unknown = await http.post(path, json={"channel": "gz-hall-9"}, headers=director)
    assert unknown.status == 404
    assert (await http.post("/api/venues/mars/route", json={}, headers=director)).status == 404

    automation = "/api/venues/jp/automation"
    assert (await http.post(automation, json={"on": False}, headers=operator)).status == 403
    response = await http.post(automation, json={"on": False}, headers=director)
    assert (await response.json()) == {"venue": "jp", "automation": "paused"}
    assert (await http.post(automation, json={"on": "no"}, headers=director)).status == 400
    jp = venue_row(await (await http.get("/api/routing")).json(), "jp")
    assert jp["automation"] == "paused"


async def test_routing_over_the_websocket_reaches_every_watcher(node: Node) -> None:
    viewer = await node.connect()
    await viewer.ok({"type": "watch_routing"})
    assert viewer.of_type("routing")
    refused = await viewer.request({"type": "route", "venue": "kr", "channel": "gz-hall-1"})
    assert refused["type"] == "error"
    assert refused["code"] == "forbidden"

    director = await node.connect(node.token("director", "Director Kim"))
    reply = await director.ok({"type": "route", "venue": "kr", "channel": "gz-hall-1"})
    assert reply["venue"] == "kr"

    def kr_requested() -> bool:
        frames = viewer.of_type("routing")
        return venue_row(frames[-1], "kr")["requested"] is not None

    await eventually(kr_requested, "the viewer to see the new crosspoint")
    assert venue_row(viewer.of_type("routing")[-1], "kr")["requested"]["by"] == "Director Kim"

    bad = await director.request({"type": "route", "venue": "kr", "channel": "nope"})
    assert (bad["type"], bad["code"]) == ("error", "not_found")
    paused = await director.ok({"type": "set_automation", "venue": "kr", "on": False})
    assert paused["automation"] == "paused"
    await eventually(
        lambda: venue_row(viewer.of_type("routing")[-1], "kr")["automation"] == "paused",
        "the viewer to see automation paused",
    )


async def test_records_are_for_directors(node: Node) -> None:
    http = node.http
    assert (await http.get("/api/records.json")).status == 401
    viewer = {"Authorization": f"Bearer {node.token('viewer')}"}
    assert (await http.get("/api/records.csv", headers=viewer)).status == 403
    director = {"Authorization": f"Bearer {node.token('director', 'Director Wang')}"}
    body = await (await http.get("/api/records.json", headers=director)).json()
    assert body == {"event": "coet2018", "airings": []}
    text = await (await http.get("/api/records.csv", headers=director)).text()
    assert next(csv.reader(io.StringIO(text)))[0] == "airing"
    page = await http.get("/records", headers=director)
    assert page.status == 200
    html = await page.text()
    assert "As-run records" in html
    assert 'data-session="overseas-talents-summit"' in html


async def test_director_page_needs_a_director(node: Node) -> None:
    http = node.http
    assert (await http.get("/director")).status == 401
    operator = {"Authorization": f"Bearer {node.token('operator', venue='jp')}"}
    assert (await http.get("/director", headers=operator)).status == 403
    director = {"Authorization": f"Bearer {node.token('director', 'Director Wang')}"}
    page = await http.get("/director", headers=director)
    assert page.status == 200
    html = await page.text()
    assert 'data-channel="gz-hall-1"' in html
    assert 'id="schedule-data"' in html

"""The invite page in Chromium: an admin creates a producer invite, a second browser opens
its link, lands signed in on /publish/{channel} and publishes its camera; the admin revokes
the invite, the producer's socket is cut off, its page stops publishing, and the link is
refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Dialog, Page

from tests.control.support import mint
from tests.helpers import eventually
from tests.integration.conftest import MediaServer
from tests.media_peers import needs_network
from web.keys import MEDIA

pytestmark = [
    pytest.mark.browser,
    pytest.mark.network,
    needs_network,
    pytest.mark.requires("chromium"),
]


async def _create(page: Page, role: str, label: str, hours: str, **scope: str) -> str:
    """Fills and sends the form as a person would; returns the new invite's id."""
    await page.select_option("#invite-role", role)
    await page.fill("input[name=label]", label)
    await page.fill("input[name=hours]", hours)
    for field, value in scope.items():
        await page.select_option(f"#invite-{field}", value)
    async with page.expect_navigation():
        await page.click("#invite-form button[type=submit]")
    assert "?created=" in page.url, await page.content()
    return page.url.split("created=", 1)[1].split("#", 1)[0]


async def _state(page: Page, invite_id: str) -> str | None:
    return await page.locator(f"#invite-{invite_id}").get_attribute("data-state")


async def test_an_admin_invites_a_producer_then_revokes_the_invite(
    media_server: MediaServer, browser: Browser, shots: Path
) -> None:
    app, live_url = media_server.app, media_server.url

    def hall_live() -> bool:
        return bool(app[MEDIA].channel("gz-hall-3").live)

    admin_context = await browser.new_context()
    await admin_context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_url)
    admin = await admin_context.new_page()
    errors: list[str] = []
    admin.on("pageerror", lambda error: errors.append(str(error)))
    # The admin's own invite lands on the invite page.
    await admin.goto(f"{live_url}/join?token={mint(app, 'admin', 'Event admin')}")
    assert admin.url == f"{live_url}/admin/invites"

    # Only the chosen role's scope is shown (the script hides the others).
    await admin.select_option("#invite-role", "operator")
    assert await admin.is_visible("#invite-venue")
    assert not await admin.is_visible("#invite-channel")

    # A bad request comes back with the reason and the typed label kept.
    await admin.select_option("#invite-role", "director")
    await admin.fill("input[name=label]", "Too long a director")
    await admin.fill("input[name=hours]", "500")
    async with admin.expect_navigation():
        await admin.click("#invite-form button[type=submit]")
    assert "at most 168 hours" in (await admin.text_content("#invite-error") or "")
    assert await admin.input_value("input[name=label]") == "Too long a director"

    await _create(admin, "operator", "Tokyo sub-venue desk", "48", venue="jp")
    await _create(
        admin, "moderator", "Summit Q&A moderator", "12", session="overseas-talents-summit"
    )
    invite_id = await _create(admin, "producer", "Hall 3 camera", "6", channel="gz-hall-3")
    row = admin.locator(f"#invite-{invite_id}")
    assert await _state(admin, invite_id) == "active"
    assert "channels gz-hall-3" in (await row.text_content() or "")
    link = await row.locator("input.invite-link").input_value()
    assert link.startswith(f"{live_url}/join?token=")

    # The copy button puts the link on the clipboard; the QR code is an image of it.
    await row.locator("button.copy").click()
    assert await admin.evaluate("navigator.clipboard.readText()") == link
    await row.locator("details.qr summary").click()
    qr = row.locator("details.qr img")
    await eventually(
        lambda: qr.evaluate("img => img.complete && img.naturalWidth > 100"),
        "the QR code to load",
    )

    # A second browser opens the link: the publish page, signed in by the cookie.
    producer_context = await browser.new_context()
    producer = await producer_context.new_page()
    await producer.goto(link)
    assert producer.url == f"{live_url}/publish/gz-hall-3"
    assert not await producer.locator("details.stream-key").get_attribute("open")

    async def producer_socket_role() -> object:
        return await producer.evaluate("window.vbPublish.socket.welcome?.role")

    await eventually(
        lambda: _equals(producer_socket_role(), "producer"), "the producer's socket to open"
    )
    await producer.click("#start")  # WHIP with the cookie
    await eventually(lambda: hall_live(), "hall 3 to be live from the invited browser", within=20)

    # The list shows when the link was used.
    await admin.reload()
    opened = await row.locator(".last-use .joined").text_content() or ""
    assert "never" not in opened
    assert "UTC" in opened
    await row.locator("details.qr summary").click()
    await admin.screenshot(path=str(shots / "admin-invites.png"), full_page=True)

    # Revoke (the page asks first); the producer's socket is closed, the link refused.
    admin.once("dialog", lambda dialog: _accept(dialog))
    async with admin.expect_navigation():
        await row.locator("button.revoke").click()
    assert await _state(admin, invite_id) == "revoked"
    assert await row.locator("button.revoke").count() == 0
    assert await row.locator("input.invite-link").count() == 0
    await eventually(
        lambda: _equals(producer.evaluate("window.vbPublish.socket.stopped"), True),
        "the revoked producer's socket to be cut off",
    )
    # The page stops publishing on the revoked sign-in and says why.
    await eventually(lambda: not hall_live(), "hall 3's publisher to stop", within=10)
    said = await producer.text_content("#status") or ""
    assert "Publishing stopped: the token has been revoked" in said
    await admin.screenshot(path=str(shots / "admin-invites-revoked.png"), full_page=True)

    stranger = await (await browser.new_context()).new_page()
    response = await stranger.goto(link)
    assert response is not None
    assert response.status == 401
    assert "This invite has been revoked" in await stranger.content()
    # The producer's own browser is no longer signed in either.
    await producer.reload()
    assert await producer.locator("details.stream-key").get_attribute("open") is not None
    assert errors == []


async def _equals(value: object, wanted: object) -> bool:
    return await value == wanted  # type: ignore[misc]


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


async def test_the_page_works_without_javascript(
    media_server: MediaServer, browser: Browser
) -> None:
    app, url = media_server.app, media_server.url
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{url}/join?token={mint(app, 'admin', 'No-script admin')}")
    # Every scope field shows; only the chosen role's is used.
    assert await page.is_visible("#invite-venue")
    assert await page.is_visible("#invite-channel")
    invite_id = await _create(page, "operator", "Seoul desk", "8", venue="kr", channel="gz-expo")
    row = page.locator(f"#invite-{invite_id}")
    assert "venue kr" in (await row.text_content() or "")
    assert not await row.locator("button.copy").is_visible()  # needs the script
    assert await row.locator("input.invite-link").input_value()
    async with page.expect_navigation():
        await row.locator("button.revoke").click()  # no confirm() without the script
    assert await _state(page, invite_id) == "revoked"

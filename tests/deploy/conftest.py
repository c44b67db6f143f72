"""The stack tests save screenshots the way the browser tests do."""

from tests.browser.conftest import shots

__all__ = ["shots"]

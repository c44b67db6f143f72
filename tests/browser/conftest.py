from tests.integration.conftest import media_server, media_settings

__all__ = ["media_server", "media_settings"]

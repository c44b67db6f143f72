from tests.control.conftest import control_app, hub_options, node

__all__ = ["control_app", "hub_options", "node"]

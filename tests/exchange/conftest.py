"""Makes the session PKI fixtures visible here until the top-level conftest registers them.

pytest refuses ``pytest_plugins`` outside the top-level conftest, so this imports the fixtures
instead — only when ``tests/conftest.py`` does not already list the plugin (no double registration).
"""

from __future__ import annotations

import tests.conftest as _root

if "tests.fixtures.pki" not in getattr(_root, "pytest_plugins", ()):
    from tests.fixtures.pki import *  # noqa: F403

"""The accessibility check itself finds problems (so a clean result on the broker's pages means something)."""

import pytest

from tests.support.browser import axe_violations

pytestmark = pytest.mark.browser


def test_axe_reports_serious_findings(page):
    page.set_content('<html><head><title>t</title></head><body><main><h1>x</h1>'
                     '<form><input type="text" name="q"></form>'
                     '<p style="color:#bbb;background:#fff">faint text</p></main></body></html>')
    found = {violation["id"] for violation in axe_violations(page)}
    assert {"label", "color-contrast", "html-has-lang"} <= found

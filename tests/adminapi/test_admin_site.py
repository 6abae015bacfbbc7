import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "auth/user", "plugins/computeresource", "plugins/pluginmeta", "plugins/plugin",
    "plugins/plugininstance", "feeds/feed", "feeds/tag", "feeds/comment",
    "uploadedfiles/uploadedfile", "pacsfiles/pacsfile", "pacsfiles/pacs",
    "servicefiles/servicefile", "servicefiles/service", "chrisinstance/chrisinstance",
]  # fmt: skip


@pytest.mark.parametrize("model", CHANGELISTS)
def test_admin_site_lists_and_adds(superuser, model):
    browser = Client()
    browser.force_login(superuser)
    assert browser.get(f"/chris-admin/{model}/").status_code == 200
    assert browser.get(f"/chris-admin/{model}/add/").status_code == 200

"""The driver pages' German: every string the app marks for translation has a German translation (none fuzzy), and
the committed catalogue (django.mo, what Django reads) is the one msgfmt builds from django.po."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.helpers import skip_or_fail

APP = Path(__file__).resolve().parents[2] / "apps" / "driverweb"
GERMAN = APP / "locale" / "de" / "LC_MESSAGES"

pytestmark = pytest.mark.django_db(transaction=False)


def gettext_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"checking the translations needs GNU gettext's {name} (apt-get install gettext)")
    return path


def msgids(po: Path, selection: str) -> list[str]:
    """The messages msgattrib selects (--untranslated, --only-fuzzy, --only-obsolete), the header left out."""
    selected = subprocess.run(
        [gettext_tool("msgattrib"), selection, "--no-wrap", str(po)], check=True, capture_output=True, text=True
    ).stdout
    return [msgid for msgid in re.findall(r'^(?:#~ )?msgid "(.*)"$', selected, re.M) if msgid]


def test_every_marked_string_has_a_german_translation(tmp_path, monkeypatch):
    gettext_tool("xgettext")
    copy = tmp_path / "driverweb"
    shutil.copytree(APP, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["de"], verbosity=0)  # merges what the code marks into the copy's .po
    merged = copy / "locale" / "de" / "LC_MESSAGES" / "django.po"
    untranslated, fuzzy = msgids(merged, "--untranslated"), msgids(merged, "--only-fuzzy")
    assert (untranslated, fuzzy) == ([], []), "run makemessages -l de in apps/driverweb and translate these"
    assert msgids(merged, "--only-obsolete") == [], "strings the app no longer marks: remove them from django.po"


def test_the_compiled_catalogue_is_the_po_file_compiled(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(
        [gettext_tool("msgfmt"), "--check", "-o", str(compiled), str(GERMAN / "django.po")], check=True, cwd=tmp_path
    )
    assert compiled.read_bytes() == (GERMAN / "django.mo").read_bytes(), (
        "django.mo is stale: msgfmt -o apps/driverweb/locale/de/LC_MESSAGES/django.mo "
        "apps/driverweb/locale/de/LC_MESSAGES/django.po"
    )

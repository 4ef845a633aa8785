from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.broker.conftest import text

BROKER = Path(__file__).resolve().parents[2] / "broker"
CATALOG = BROKER / "translations" / "de" / "LC_MESSAGES"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2"), ("templates/**.txt", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.do"}, "templates/**.txt": {"extensions": "jinja2.ext.do"}}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def source_messages() -> set[str]:
    found = set()
    for _filename, _line, message, _comments, _context in extract_from_dir(
            str(BROKER), METHODS, options_map=OPTIONS, keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_german_translation():
    with open(CATALOG / "messages.po", "rb") as handle:
        catalog = read_po(handle)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and m.string
                  and (all(m.string) if isinstance(m.string, tuple) else True)}
    missing = source_messages() - translated
    assert missing == set()


def entries(catalog) -> dict:
    def key(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {key(m.id): key(m.string) for m in catalog if m.id}


def test_compiled_catalog_matches_the_po_file():
    with open(CATALOG / "messages.po", "rb") as handle:
        po = entries(read_po(handle))
    with open(CATALOG / "messages.mo", "rb") as handle:
        mo = entries(read_mo(handle))
    assert mo == po, "run: .venv/bin/pybabel compile -d broker/translations"


def test_language_choice(app, client):
    assert '<html lang="de">' in text(client.get("/"))
    assert '<html lang="de">' in text(client.get("/", headers={"Accept-Language": "fr-FR, it"}))
    assert '<html lang="en">' in text(client.get("/", headers={"Accept-Language": "en-GB, de;q=0.5"}))
    switched = client.get("/login?lang=en&next=/account")
    assert '<html lang="en">' in text(switched)
    assert 'href="/login?lang=de&amp;next=/account"' in text(switched)  # the switch keeps the page's query
    cookie = [h for h in switched.headers.getlist("Set-Cookie") if h.startswith("eid-broker-lang=en")]
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=Lax" in cookie[0]
    assert '<html lang="en">' in text(client.get("/", headers={"Accept-Language": "de"}))  # remembered
    assert '<html lang="de">' in text(client.get("/?lang=de"))
    assert '<html lang="de">' in text(client.get("/?lang=xx", headers={"Accept-Language": "fr"}))

"""The zh catalogue covers every interface string of the app, with the same placeholders."""
import re
from pathlib import Path

from babel.messages.catalog import PYTHON_FORMAT
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "surveyapp" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
NAMED_PLACEHOLDER = re.compile(r"%\((\w+)\)")


def _source_messages() -> dict:
    """``{msgid: "file:line"}`` of every string the app wraps for translation."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, str(ROOT / "babel.cfg"))
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    return {message: f"{filename}:{line}" for filename, line, message, _, _ in
            extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}


def _first(message_id) -> str:
    return message_id[0] if isinstance(message_id, tuple) else message_id


def _accidental_placeholder(message_id) -> bool:
    """A literal "95% confidence" reads as the format "% c": no translation can match it."""
    text = _first(message_id)
    return bool(PYTHON_FORMAT.search(text)) and not NAMED_PLACEHOLDER.search(text) \
        and "%%" not in text


def _is_translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and "fuzzy" not in message.flags


def _catalogue():
    with open(CATALOGUE, "rb") as handle:
        return read_po(handle, locale="zh")


def test_every_interface_string_has_a_chinese_translation():
    translated = {m.id for m in _catalogue() if m.id and _is_translated(m)}
    missing = sorted(f"{where}: {_first(message)!r}" for message, where in _source_messages().items()
                     if message not in translated and not _accidental_placeholder(message))
    assert missing == [], ("untranslated (pybabel extract/update, then translate): "
                           + "; ".join(missing))


def test_no_string_has_an_accidental_format_placeholder():
    accidental = sorted(f"{where}: {_first(message)!r}" for message, where
                        in _source_messages().items() if _accidental_placeholder(message))
    assert accidental == []


def test_translations_keep_placeholders():
    for message in _catalogue():
        if not message.id or not message.string:
            continue
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(NAMED_PLACEHOLDER.findall(sources[0]))
        for target in targets:
            if target:
                assert set(NAMED_PLACEHOLDER.findall(target)) == wanted, (message.id, target)


def test_catalogue_compiles_without_errors():
    errors = [(message.id, error) for message, found in _catalogue().check() for error in found]
    assert errors == []

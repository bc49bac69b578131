"""Statement boundaries of French press copy, by the rules of LABELS.md.

Pure functions over the text as given: no spaCy objects, offsets into the original string.
The spaCy component in :mod:`bilatag.segment` applies them to a ``Doc``; the tagger also uses
them directly for single lines too long to be worth a ``Doc``.

Rules (LABELS.md, "Statements"):

- any line break ends a statement; a line without final punctuation is a statement;
- ``.``, ``!``, ``?``, ``…`` end a statement when an uppercase word (or a digit) follows after
  whitespace, possibly behind closing quotes (``.»``) and before opening ones (`` «Nous``);
  not when a dash follows (``Le Président. – L'ordre du jour``: a transcript's speaker label);
  a lowercase word after them (``L'objectif ? renforcer``, ``!» a-t-il lancé``) is no boundary;
- a period glued to an uppercase word (``à Alger.Le géant``) is a boundary;
- no boundary after abbreviations (M., MM., Dr, art., p., av. ...), initials (J.-Y. Le Drian),
  list markers at the start of a line (``1. Renforcer``, ``4.1. Tendances``), inside URLs, or
  after a bracketed ellipsis (``(...)``, ``[…]``);
- a title line (no final punctuation) is one statement even when a short kicker and a period
  open it (``EN DIRECT. Marseille : ...``, ``Rennes. Mineurs isolés : ...``);
- a leading ``date YYYY-MM[-DD]`` marker is the document's date, not a statement.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Segmentation", "parse_date_header", "find_statements", "line_spans", "LINE_BREAK"]

#: Every line break str.splitlines() knows; "\r\n" counts as one.
LINE_BREAK = re.compile(r"\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")

_DATE_HEADER = re.compile(
    r"\A[^\S\n\r]*(?:\r\n|[\n\r])?[^\S\n\r]*date[^\S\n\r]+"
    r"(\d{4}-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)(?=\s|\Z)"
)
_TERMINAL = re.compile(r"[.!?…]+")
_URL = re.compile(r"(?:https?://|www\.)\S+?(?=[.,;:!?»)\]]*(?:\s|$))|\b[\w.+-]+@[\w-]+\.[\w.-]+\w")
_SPACE = " \t\u00a0\u202f\u2007\u2009\u200a\u2002\u2003\u3000"
_CLOSERS = "»”)]›"
_AMBIGUOUS_QUOTES = "\"'"
_OPENERS = "«“\"'([‹•"
# Abbreviations that never end a statement before an uppercase word (compared as written).
_ABBREV_CASED = frozenset(
    "M MM Mme Mmes Mlle Mlles Dr Drs Pr Pres Me Mgr St Ste Sts Stes Cie Ets Éts Sté".split()
)
# Abbreviations compared in lowercase ("art." and "Art." alike); "etc." is deliberately absent:
# before an uppercase word it ends the sentence.
_ABBREV_LOWER = frozenset(
    """art arts al av apr bd boul cf chap coll col cdt dir éd env ex fig gal gén hab janv févr
    fév avr juil sept oct nov déc n° nos pp p réf s ss suiv tél vol vs lt sgt adj c v""".split()
)
# Initials: "J", "J.-Y", "Ch", "Ph", "M.-A".
_INITIALS = re.compile(r"(?:[A-ZÀ-ÖØ-Ý]h?\.-?)*[A-ZÀ-ÖØ-Ý]h?")
# A list marker opening a line: "1", "12", "a", "IV", "4.1", "II.3" (followed by the period
# being examined).
_LIST_MARKER = re.compile(
    r"[^\S\n]*(?:[-•*–—][^\S\n]*)?(?:\d{1,3}|[a-zA-Z]|[IVXLC]{1,6})(?:\.(?:\d{1,3}|[a-zA-Z]))*")
# A kicker opening a headline: 1-3 capitalised words ("EN DIRECT", "VIDÉO", "Rennes",
# "Saint-Denis") or a usual rubric ("Lire aussi", "À voir").
_KICKER = re.compile(r"[^\S\n]*[A-ZÀ-ÖØ-Ý][^\s.!?…]*(?:[ \u00a0][A-ZÀ-ÖØ-Ý][^\s.!?…]*){0,2}")
_RUBRIC = re.compile(r"[^\S\n]*(?:[àÀaA] )?(?:lire|voir|écouter|regarder)(?: aussi| également)?"
                     r"|[^\S\n]*(?:en )?direct|[^\S\n]*(?:l')?essentiel", re.I)
_FINAL = re.compile(r"[.!?…][»”\"')\]\s\u00a0\u202f]*\Z")
_ERA = re.compile(r"(?:av|apr)\.\s*J\.-C", re.I)


@dataclass(frozen=True)
class Segmentation:
    """Where the statements of a text are: ``(start, end)`` offsets, and the header date."""

    date: str | None
    statements: list[tuple[int, int]]


def parse_date_header(text: str) -> tuple[str | None, int]:
    """Return ``(date, body_start)``: the leading ``date YYYY-MM[-DD]`` marker, if any.

    ``body_start`` is the offset just after the marker (0 when there is none).
    """
    m = _DATE_HEADER.match(text)
    if m is None:
        return None, 0
    return m.group(1), m.end()


def line_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each line of ``text[start:end]``, line breaks excluded."""
    end = len(text) if end is None else end
    pos = start
    for m in LINE_BREAK.finditer(text, start, end):
        yield pos, m.start()
        pos = m.end()
    yield pos, end


def find_statements(text: str, *, date_header: bool = True) -> Segmentation:
    """Segment ``text`` into statements.

    Every non-whitespace character outside the date header lies in exactly one statement;
    statements are in text order, stripped of surrounding whitespace.
    """
    date, body = parse_date_header(text) if date_header else (None, 0)
    spans: list[tuple[int, int]] = []
    for line_start, line_end in line_spans(text, body):
        spans.extend(_line_statements(text, line_start, line_end))
    return Segmentation(date, spans)


def _line_statements(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    cuts = [*_cuts(text, start, end), end]
    pos = start
    for cut in cuts:
        s, e = pos, cut
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            yield s, e
        pos = cut


def _cuts(text: str, start: int, end: int) -> Iterator[int]:
    """Offsets inside one line where a statement ends (just after its last character)."""
    urls = [(m.start(), m.end()) for m in _URL.finditer(text, start, end)]
    for m in _TERMINAL.finditer(text, start, end):
        i, j = m.start(), m.end()
        if any(a <= i < b for a, b in urls):
            continue
        cut = _boundary_after(text, i, j, start, end)
        if cut is not None:
            yield cut


def _boundary_after(text: str, i: int, j: int, line_start: int, line_end: int) -> int | None:
    """The cut after the terminal run ``text[i:j]``, or None when it ends no statement."""
    punct = text[i:j]
    ellipsis = "…" in punct or "..." in punct
    if ellipsis and i > line_start and text[i - 1] in "([":
        return None  # "(...)" or "[…]": an elision inside a quote
    k = _skip_closers(text, j, line_end)
    if k >= line_end:
        return None  # end of line: a boundary anyway
    glued = text[k] not in _SPACE and not text[k].isspace()
    if glued:
        # Scraped copy: "à Alger.Le géant". Only a period or ?/! right before "Xx".
        nxt = text[k]
        after = text[k + 1] if k + 1 < line_end else ""
        # "Le", "L'", or the one-letter "À"/"A" before a space ("implantées.À Alger")
        if not (nxt.isupper() and (after.islower() or after in ("'", "’")
                                   or (nxt in "ÀA" and after == " "))):
            return None
        prev = text[i - 1] if i > line_start else ""
        if not (prev.isalnum() or prev in _CLOSERS):
            return None
    else:
        n = k
        while n < line_end and (text[n] in _SPACE or text[n].isspace() or text[n] in _OPENERS):
            n += 1
        if n >= line_end:
            return None
        nxt = text[n]
        if nxt.isdigit():
            if punct == "." and _ends_abbreviation(text, i, line_start):
                return None
        elif not nxt.isupper():
            return None
    if punct == "." and _ends_abbreviation(text, i, line_start):
        return None
    if punct == "." and not glued and _is_kicker(text, i, k, line_start, line_end):
        return None
    return k


def _is_kicker(text: str, i: int, k: int, line_start: int, line_end: int) -> bool:
    """Whether the period at ``i`` closes a headline's kicker: a title line (no final
    punctuation) that opens with one to three words and a period (``EN DIRECT. Marseille :
    ...``, ``Rennes. Mineurs isolés : ...``, ``Lire aussi. Rezé : ...``): the line is one
    title, not two statements."""
    if not (_KICKER.fullmatch(text, line_start, i) or _RUBRIC.fullmatch(text, line_start, i)):
        return False
    return _FINAL.search(text[k:line_end]) is None


def _skip_closers(text: str, j: int, line_end: int) -> int:
    """Skip closing quotes and brackets after a terminal run (``.»``, ``. »``, ``?")``)."""
    k = j
    while True:
        n = k
        while n < line_end and text[n] in _SPACE:
            n += 1
        if n < line_end and text[n] in _CLOSERS:
            k = n + 1
            continue
        if n < line_end and text[n] in _AMBIGUOUS_QUOTES:
            after = text[n + 1] if n + 1 < line_end else " "
            if after.isspace() or after in ",;:.!?)»":
                k = n + 1
                continue
        return k


def _ends_abbreviation(text: str, i: int, line_start: int) -> bool:
    """Whether the period at ``i`` ends an abbreviation, an initial or a list marker."""
    s = i
    while s > line_start and not text[s - 1].isspace() and text[s - 1] not in "«“\"([":
        s -= 1
    word = re.split(r"['’]", text[s:i])[-1]  # "l'art." -> "art"
    _, slash, tail = word.rpartition("/")
    if slash and tail[:1].isupper():
        word = tail  # a credit "© AFP/M. Diallo", "HCR/J.-P. Martin" (but "km/h." ends a sentence)
    if not word:
        return False
    if word in _ABBREV_CASED or word.lower() in _ABBREV_LOWER:
        return True
    if _INITIALS.fullmatch(word):
        # "av. J.-C." ends a sentence like any word; other initials do not.
        return not _ERA.search(text, max(line_start, s - 5), i)
    if _LIST_MARKER.fullmatch(text, line_start, i):
        return True
    return False

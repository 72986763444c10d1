"""The language helpers that fit a user's words into the copywriter's phrase banks.

    speakable("Vegan & cruelty-free \u2728 #ad")  # "Vegan and cruelty-free ad"
    point_item("24-HOUR HYDRATION")             # Item("24-hour hydration", "fragment")
    place_phrase("a sunny bathroom with plants")  # ("my bathroom", True)
    split_custom("One. Two. Three.", 2)         # ["One.", "Two. Three."]

A selling point is sorted by its grammar (adjective, noun, verb phrase, fragment, sentence)
from its first and last words, so the copywriter can pick phrasings it reads well in; the word
lists below are what that guess rests on. The phrasings themselves are in `copy_phrases`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

_HTML_TAG = re.compile(r"<[^<>]{0,200}>")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKUP = str.maketrans("", "", "*_`#~^|\\{}[]<>")
_SENTENCE_GAP = re.compile(r"(?<=[.!?])\s+")
_CLOSERS = "\"')]}\u201d\u2019"

# --- word lists that classify a selling point by its grammar ---------------------------------

SENTENCE_STARTS = frozenset({
    "i", "i'm", "i've", "it", "it's", "you", "you'll", "you're", "we", "we're", "this", "they",
    "there", "there's", "everyone", "nothing"})
FRAGMENT_STARTS = frozenset({
    "no", "zero", "without", "up", "over", "under", "more", "less", "fewer", "just", "only",
    "all", "every", "each", "a", "an", "the", "your", "our", "its", "one", "two", "three"})
PARTICIPLES = frozenset({
    "made", "designed", "crafted", "handcrafted", "built", "formulated", "packed", "tested",
    "loved", "backed", "infused", "enriched", "powered", "certified", "approved", "handmade",
    "sourced", "engineered", "developed", "trusted", "recommended", "packaged", "shipped"})
ADJECTIVES = frozenset({
    "vegan", "organic", "natural", "lightweight", "compact", "portable", "gentle", "waterproof",
    "non-toxic", "reusable", "rechargeable", "hypoallergenic", "sustainable", "affordable",
    "durable", "easy", "simple", "quick", "fast", "safe", "soft", "light", "strong", "sturdy",
    "cordless", "wireless", "breathable", "washable", "refillable", "recyclable", "biodegradable",
    "quiet", "silent", "comfortable", "stylish", "non-greasy", "unscented", "travel-friendly",
    "kid-friendly", "pet-friendly", "eco-friendly", "adjustable", "foldable", "effortless",
    "great", "perfect", "ideal", "good", "suitable", "compatible", "smooth", "fragrance-free"})
ADJ_SUFFIXES = ("free", "friendly", "safe", "proof", "resistant", "tested", "approved", "based",
                "certified", "less", "ful", "ous", "able", "ible")
ADJ_LINKS = frozenset({"to", "and", "for", "on", "with", "enough", "as", "in", "yet"})
VERB_FOLLOWERS = frozenset({
    "in", "on", "up", "all", "your", "to", "with", "into", "for", "the", "a", "an", "every",
    "any", "like", "out", "down", "fast", "quickly", "instantly", "easily", "great", "amazing",
    "beautifully", "perfectly", "smoothly", "without", "under", "over", "through", "right",
    "just", "away", "off", "anywhere", "everywhere", "from", "my", "you", "itself", "so",
    "long", "more", "less", "most"})
NOT_VERBS = frozenset({"results", "benefits", "ingredients", "features", "hours", "days", "years",
                       "weeks", "minutes", "seconds", "options", "colors", "colours", "sizes",
                       "extras", "savings", "refills", "accessories", "uses", "plus"})

# --- where the creator films -----------------------------------------------------------------

PLACE_BREAKS = (",", ";", " with ", " and ", " that ", " where ", " featuring ", " in ", " on ",
                " at ", " near ", " by ", " under ", " overlooking ", " full of ", " for ")
TWO_WORD_HEADS = frozenset({"room", "shop", "office", "store", "table", "counter", "area", "space",
                            "court", "station", "house"})
HOME_PLACES = frozenset({
    "bathroom", "kitchen", "bedroom", "living room", "office", "home office", "desk", "car",
    "vanity", "apartment", "closet", "garden", "balcony", "studio", "room", "dorm room",
    "nursery", "garage", "backyard", "patio", "home", "dining room", "kitchen counter",
    "dining table", "kitchen table", "couch", "sofa"})
NOT_PLACES = frozenset({"outdoors", "outside", "indoors", "inside", "background", "setting",
                        "scene", "environment", "lighting", "light", "vibe", "aesthetic", "style",
                        "backdrop", "mood", "daylight", "sunlight", "setup", "set-up"})

# Tokens that end in "." without ending a sentence.
ABBREVIATIONS = frozenset({
    "e.g.", "i.e.", "vs.", "dr.", "mr.", "mrs.", "ms.", "st.", "jr.", "sr.", "no.", "approx.",
    "inc.", "co.", "ltd.", "a.m.", "p.m.", "fig.", "prof.", "mt.", "ft.", "oz.", "lb.", "lbs."})


# --- speakable text ------------------------------------------------------------------------

def _unspeakable(ch: str) -> bool:
    """Emoji, pictographs, variation selectors and control characters: nothing a voice says."""
    category = unicodedata.category(ch)
    return (category in {"So", "Sk", "Cs", "Co", "Cn", "Cf", "Me"}
            or "\ufe00" <= ch <= "\ufe0f" or (category == "Cc" and not ch.isspace()))


def speakable(text: str) -> str:
    """Text a voice can read: no emoji, markup or hashtags, "&" as "and", single spaces."""
    text = _MD_LINK.sub(r"\1", _HTML_TAG.sub(" ", html.unescape(text)))
    text = re.sub(r"#(?=\d)", "number ", text)
    text = "".join(ch for ch in text if not _unspeakable(ch)).translate(_MARKUP)
    return " ".join(text.replace("&", " and ").split())


def clean_name(name: str) -> str:
    """The product name as given, less what a voice cannot say (emoji) and extra spaces."""
    return " ".join("".join(ch for ch in name if not _unspeakable(ch)).split())


def capitalise(text: str, terminal: str) -> str:
    """Sentence case for a lower-case opening word; `terminal` added if no end mark."""
    if text and text.split()[0].islower():
        text = text[0].upper() + text[1:]
    return text + terminal if terminal and text and text[-1] not in ".!?" else text


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_GAP.split(text.strip()) if s]


@dataclass(frozen=True)
class Item:
    """A selling point (or a generic list reason) and its grammar: adj, noun, fragment, verb,
    sentence or clause (a generic reason, already a clause)."""

    text: str
    kind: str

    def clause(self, tone: str) -> str:
        """The point as what follows "Number one:" in a list."""
        be = "it is" if tone == "professional" else "it's"
        if self.kind == "adj":
            return f"{be} {self.text}"
        if self.kind == "verb":
            return f"it {self.text}"
        return self.text


def _capitalised(word: str) -> bool:
    """"Vegan", "24-Hour", "Paraben-free": a capital only because it opened a phrase (not "I",
    "USB-C", "iPhone")."""
    letters = [c for c in word if c.isalpha()]
    return (len(letters) > 1 and letters[0].isupper() and "".join(letters[1:]).islower()
            and not re.match(r"I('|\u2019)", word))


def _titled(word: str) -> bool:
    """Every hyphened part capitalised, as title case writes "Cruelty-Free"."""
    parts = [p for p in word.split("-") if any(c.isalpha() for c in p)]
    return bool(parts) and all(_capitalised(p) for p in parts)


def point_text(raw: str) -> str:
    """A point as a mid-sentence phrase: markup gone, end marks gone, title or shouting undone."""
    text = speakable(raw).rstrip(".!?;:, ")
    words = text.split()
    shouted = [w for w in words if w != "and" and any(c.isalpha() for c in w)]
    if shouted and all(w.isupper() for w in shouted) and max(len(w) for w in shouted) > 3:
        words = [w.lower() if len(w) > 3 and w.isupper() else w for w in words]
    cased = [w for w in words if any(c.isalpha() for c in w) and w != "and"]
    everything_titled = len(cased) > 1 and all(_titled(w) for w in cased)
    for i, word in enumerate(words):
        if (_capitalised(word) and i == 0) or (everything_titled and _titled(word)):
            words[i] = word.lower()
    return " ".join(words)


def _adjectival(word: str) -> bool:
    long_suffix = word.endswith(("less", "ful", "ous", "able", "ible")) and len(word) >= 7
    short_suffix = word.endswith(tuple(s for s in ADJ_SUFFIXES if s not in
                                       ("less", "ful", "ous", "able", "ible")))
    hyphened = "-" in word and word.rsplit("-", 1)[1].endswith(("ing", "ed"))
    return word in ADJECTIVES or long_suffix or short_suffix or hyphened


def point_kind(text: str) -> str:
    """Which phrasings a point fits, from its first and last words."""
    words = [w.strip(",;:()\"'") for w in text.lower().split()]
    first, last = words[0], words[-1]
    second = words[1] if len(words) > 1 else ""
    if first in SENTENCE_STARTS:
        return "sentence"
    if first in PARTICIPLES or _adjectival(last) or (
            first in ADJECTIVES and (len(words) == 1 or second in ADJ_LINKS)):
        return "adj"
    if first in FRAGMENT_STARTS or first[:1].isdigit():
        return "fragment"
    verbish = (first.endswith("s") and not first.endswith("ss") and len(first) > 3
               and first.isalpha() and first not in NOT_VERBS)
    return "verb" if verbish and second in VERB_FOLLOWERS else "noun"


def point_item(raw: str) -> Item | None:
    text = point_text(raw)
    return Item(text, point_kind(text)) if text else None


def place_phrase(environment: str) -> tuple[str, bool] | None:
    """Where the creator films, as "my kitchen" or "the beach" (and whether it is home);
    None when the description names no place a person would say they are in."""
    text = speakable(environment).lower()
    cut = min([text.find(sep) for sep in PLACE_BREAKS if sep in text] + [len(text)])
    words = text[:cut].split()
    while words and words[0] in {"a", "an", "the", "my", "our", "your", "this", "in", "at",
                                 "on", "inside", "from"}:
        words.pop(0)
    if not words or words[-1] in NOT_PLACES:
        return None
    noun = words[-2:] if words[-1] in TWO_WORD_HEADS and len(words) > 1 else words[-1:]
    if not all(re.fullmatch(r"[^\W\d_]+(-[^\W\d_]+)*", w) for w in noun):
        return None
    home = " ".join(noun) in HOME_PLACES or noun[-1] in HOME_PLACES
    return (("my " if home else "the ") + " ".join(noun), home)


# --- a custom script, split without rewording --------------------------------------------------

def _ends_sentence(token: str, following: str | None) -> bool:
    core = token.rstrip(_CLOSERS)
    if not core.endswith((".", "!", "?")):
        return False
    if following is None or not core.endswith("."):
        return True
    word = core.lower().lstrip("\"'([\u201c\u2018")
    if word == "etc.":
        return following[:1].isupper()
    # Dotted initialisms ("u.s.") rarely end a sentence; a lone letter ("vitamin C.") may.
    return word not in ABBREVIATIONS and not re.fullmatch(r"([a-z]\.){2,}", word)


def _sentence_units(tokens: list[str]) -> list[list[str]]:
    units: list[list[str]] = [[]]
    for i, token in enumerate(tokens):
        units[-1].append(token)
        if i + 1 < len(tokens) and _ends_sentence(token, tokens[i + 1]):
            units.append([])
    return units


def _clause_cut(unit: list[str]) -> int | None:
    cuts = [i + 1 for i, t in enumerate(unit[:-1]) if t.rstrip(_CLOSERS).endswith((",", ";", ":"))
            or t in {"-", "\u2013", "\u2014"}]
    return min(cuts, key=lambda c: abs(2 * c - len(unit))) if cuts else None


def _word_cut(unit: list[str]) -> int | None:
    return len(unit) // 2 if len(unit) > 1 else None


def _refine(units: list[list[str]], n: int, cutter) -> list[list[str]]:
    """Split the longest splittable unit until there are `n` (or nothing more splits)."""
    while len(units) < n:
        order = sorted(range(len(units)), key=lambda i: -len(units[i]))
        found = next(((i, c) for i in order if (c := cutter(units[i])) is not None), None)
        if found is None:
            break
        i, cut = found
        units[i:i + 1] = [units[i][:cut], units[i][cut:]]
    return units


def _balance(units: list[list[str]], n: int) -> list[list[str]]:
    """Contiguous groups of units with the most even word counts (least sum of squares)."""
    sizes = [0]
    for unit in units:
        sizes.append(sizes[-1] + len(unit))
    m = len(units)
    best = {(0, 0): (0, ())}
    for k in range(1, n + 1):
        for j in range(k, m - (n - k) + 1):
            best[(k, j)] = min((best[(k - 1, i)][0] + (sizes[j] - sizes[i]) ** 2,
                                best[(k - 1, i)][1] + (j,))
                               for i in range(k - 1, j) if (k - 1, i) in best)
    bounds = (0, *best[(n, m)][1])
    return [sum(units[a:b], []) for a, b in zip(bounds, bounds[1:])]


def split_custom(text: str, n: int) -> list[str]:
    """`n` parts of `text` (single-spaced) at sentence ends, then clauses, then words;
    joined with spaces they give `text` back."""
    units = _sentence_units(text.split())
    if len(units) < n:
        units = _refine(_refine(units, n, _clause_cut), n, _word_cut)
    return [" ".join(group) for group in _balance(units, n)]

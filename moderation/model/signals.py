"""What the comment form sends beside the text, and the spam signals read from the whole comment.

Akismet's insight is that a spam comment gives itself away outside its words as much as in them: a
name that is a list of keywords, a throwaway address, a website or a phone number to sell. Each
signal here is a detector for one such mark. The spam head weighs them beside the words (they are
columns of its feature matrix, see moderation.model.training), so their weights are learned where
the public data holds both classes (links, phones, messaging apps, earnings claims) and from the
site's own decisions (moderation.model.adaptation).

No public data set holds legitimate comments with names, emails and websites, only spam ones
(wordpress-spam). So no signal says "a name or a website is present": every one is zero for a
reader who types their name and their blog's address, and fires only on a mark of selling. That
is what keeps a model trained on one-sided metadata from learning that filling in a field is spam
(measured in the model card: the written reader comments score the same with and without their
fields).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import numpy as np
import phonenumbers
from disposable_email_domains import blocklist as _DISPOSABLE_DOMAINS
from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Author:
    """The comment form's other fields: the name, email and website the poster typed (any may be empty).

    `email` may be a whole address or its domain alone: the signals read only the domain.
    """

    name: str = ""
    email: str = ""
    website: str = ""


NO_AUTHOR = Author()


@dataclass(frozen=True, slots=True)
class Signal:
    """One piece of spam evidence outside the words: what fired, where, and its share of the log-odds.

    `field` is the form field it was read from (body, name, email, website); a signal read from the
    body also has the span it covers, others have start == end == 0.
    """

    code: str
    field: str
    text: str
    weight: float
    start: int = 0
    end: int = 0


@dataclass(frozen=True, slots=True)
class Found:
    """A detector's finding before the model weighs it: its value (0-1) and where it was seen."""

    code: str
    value: float
    field: str
    text: str
    start: int = 0
    end: int = 0


# -- links --------------------------------------------------------------------------------------------

# Bare domains count too: spammers drop the scheme precisely because link counters look for it.
LINK = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"']+"
    r"|\b[a-z0-9-]{2,}\.(?:com|net|org|info|biz|ru|xyz|top|io|ly|co|me|club|online|site|shop)\b(?:/[^\s<>\"']*)?"
)
# Link shorteners and link-in-bio pages hide where a link goes; a moderator cannot tell it from its text.
_SHORTENERS = """
    bit.ly bitly.com tinyurl.com t.co goo.gl ow.ly is.gd buff.ly rebrand.ly cutt.ly shorturl.at tiny.cc
    rb.gy t.ly v.gd s.id bl.ink lnkd.in shorte.st adf.ly linktr.ee tr.im soo.gd clck.ru qr.net x.co
    shorturl.com tiny.one short.io urlz.fr lnk.bio beacons.ai
"""
SHORTENERS: frozenset[str] = frozenset(_SHORTENERS.split())
# Links that open a chat with a stranger: the contact step of most scams.
_MESSAGING_HOSTS = "wa.me api.whatsapp.com chat.whatsapp.com t.me telegram.me telegram.dog m.me signal.me"
MESSAGING_HOSTS: frozenset[str] = frozenset(_MESSAGING_HOSTS.split())
MAX_COUNTED_LINKS = 3
# A link written so that link filters miss it ("site dot com", "site[.]shop", "h t t p s"), or a pointer
# to one kept elsewhere ("link in my bio", "check my profile", "the link is in my name").
_HIDDEN_LINK = re.compile(
    r"(?i)\b[a-z0-9-]{2,}\s*(?:\[\s*dot\s*\]|\(\s*dot\s*\)|\{\s*dot\s*\}|\[\.\]|\(\.\)|\s+dot\s+)\s*"
    r"(?:com|net|org|info|biz|xyz|top|io|co|me|club|online|site|shop|store|live|app|link|life|pro|vip|fun)\b"
    r"|\bh\s+t\s+t\s+p"
    # "w-w-w-site-net", "w w w . site . com": the web address spelt so that a link finder cannot read it.
    r"|\bw\W{1,3}w\W{1,3}w\W{1,3}[a-z0-9-]{2,}\W{1,3}(?:com|net|org|info|biz|live|app|site|online|xyz)\b"
    r"|\b(?:link|links|details|info|website|site)\s+(?:is\s+)?(?:in|on|at)\s+(?:my|the)\s+"
    r"(?:bio|profile|name|page|avatar|top)\b"
    # The pointer to a profile that Instagram, TikTok and YouTube spam leaves instead of a link ("tap my
    # avatar", "go to my page", "it's all on my profile page").
    r"|\b(?:check|click|visit|see|open|tap|go\s+to)\s+(?:out\s+)?my\s+(?:bio|profile|page|avatar|pfp|highlights?)\b"
    r"|\b(?:on|in)\s+my\s+(?:bio|profile|avatar|pfp|highlights)\b"
)


def host_of(url: str) -> str:
    """The host of a link as written in a comment (scheme optional), lower-case, without `www.`."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


def _on(host: str, hosts: frozenset[str]) -> bool:
    """Whether host is one of hosts or a subdomain of one."""
    return host in hosts or any(host.endswith("." + known) for known in hosts)


# -- words of selling ---------------------------------------------------------------------------------

# Words that name a trade, a product sold by comment spam, or a business: "Best SEO Agency",
# "cheap viagra online", "adjustable mattresses". Plural or unambiguous forms only, so that names
# people really have ("Loan Nguyen", "Ann Best", "Tom Price") do not read as adverts.
_TRADE_WORDS = """
    agency agencies services solutions consulting consultants company ltd llc inc corp marketing seo
    digital online shop shops store stores outlet outlets pharmacy pharmacies clinic clinics casino
    casinos betting loans mortgage mortgages insurance viagra cialis levitra pills meds replica replicas
    handbags jerseys sneakers mattress mattresses flights hotels booking bookings rentals escort escorts
    dating forex crypto bitcoin trading investments essays essay dissertation followers likes vape cbd
    kratom keto diet supplements plumbing plumber plumbers locksmith movers roofing lawyers attorneys
    dentist dentists rehab cleaners cleaning repair repairs hosting software coupons coupon promo deals
    discount discounts wholesale payday cash support removal pest lawyer attorney
"""
# Words that sell only beside another selling word ("best", "cheap", "buy"...).
_PITCH_WORDS = """
    best cheap cheapest buy free top affordable prices price sale sales review reviews near me tips
    guide official hot new
"""
# The categories SEO spam files itself under, used as names ("Home Improvement", "Travel & Leisure",
# "health and fitness"): a name made of nothing else reads as a category, not as a person.
_TOPIC_WORDS = """
    technology tech business businesses finance financial health healthy fitness fashion jewelry jewellery
    wedding weddings automotive autos auto cars travel travelling traveling leisure vacation vacations
    tickets flights airline home improvement remodel remodeling renovation kitchen bathroom garden
    real estate property shopping education career careers jobs law legal pets animal animals food
    cooking recipes recreation games game gaming sports computer computers internet web design software
    marketing advertising insurance dating relationship relationships beauty skincare medicine medical
    loans money investing crypto news magazine ideas tips guide reviews
"""
# Words that join topic words in such names.
_JOINING = "and & of for the a an in to how on with your my best top new"
JOINING_WORDS: frozenset[str] = frozenset(_JOINING.split())
TRADE_WORDS: frozenset[str] = frozenset(_TRADE_WORDS.split())
PITCH_WORDS: frozenset[str] = frozenset(_PITCH_WORDS.split())
TOPIC_WORDS: frozenset[str] = frozenset(_TOPIC_WORDS.split())
# Inside a domain the words run together ("adjustablebedsprices"), so they are found as substrings;
# only words long and specific enough not to sit inside ordinary names and words are used.
_DOMAIN_WORDS = """
    casino betting viagra cialis pharma pharmacy replica outlet mattress loans payday forex crypto
    bitcoin escort dating essay followers hoteldeal deals coupon discount cheap wholesale jerseys
    handbags sneakers prices weightloss diet supplement seo marketing backlink insurance mortgage
"""
DOMAIN_WORDS: tuple[str, ...] = tuple(sorted(set(_DOMAIN_WORDS.split()), key=len, reverse=True))
_NAME_WORD = re.compile(r"[^\W\d_]+|&", re.UNICODE)


def name_as_keywords(name: str) -> bool:
    """Whether a name reads as an advert or a category (keywords, a trade, a business), not as a person."""
    words = [word.casefold() for word in _NAME_WORD.findall(name)]
    if not words:
        return False
    trade = sum(word in TRADE_WORDS for word in words)
    pitch = sum(word in PITCH_WORDS for word in words)
    # One trade word in a name of two or more words ("Smith Plumbing", "adjustable mattresses"), or
    # two selling words; one selling word in a person's name ("Ann Best") is not enough.
    if (len(words) >= 2 and (trade >= 1 or pitch >= 2)) or trade >= 2:
        return True
    # Nothing but topic or trade words ("Technology", "Casino", "health and fitness"): a category.
    content = [word for word in words if word not in JOINING_WORDS]
    return bool(content) and all(word in TOPIC_WORDS or word in TRADE_WORDS for word in content)


def _domain_words(host: str) -> str | None:
    """The first selling word inside a host name, if any."""
    label = host.rsplit(".", 1)[0].replace("-", "")
    return next((word for word in DOMAIN_WORDS if word in label), None)


# -- contact and money --------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d")
MIN_PHONE_DIGITS = 7
_MESSAGING = re.compile(
    r"(?i)\b(?:whats\s?app|whatsap+|watsapp|telegram|viber|wechat|signal\s+app|kik|snapchat|line\s+id|icq)\b"
)
_CONTACT = re.compile(
    r"(?i)\b(?:contact|message|text|call|dm|reach|write|chat|inbox|add)\b|\+\d|@\w"
)
_HANDLE_PITCH = re.compile(
    r"(?i)\b(?:with|via|contact|message|dm|text|reach(?:\s+out\s+to)?|follow|thanks\s+to|thank|through|"
    r"write\s+to|chat\s+with|help\s+of|by)\s+(?:[^\s@]+\s+){0,2}@[\w.]{3,}"
)
# An account named for the money it makes ("@createwealthwithluna", "@earn_profit_with_tyler", "#anna_fx").
_SELLING_HANDLE = re.compile(
    r"(?i)(?<![\w@#])[@#][\w.]*?(?:earn|profit|wealth|invest|trade|trading|forex|fx|crypto|bitcoin|btc|"
    r"capital|financ|money|cash|tips|signals|loan|hack|recover|spell)[\w.]*"
)
_MONEY = (r"(?:[$£€₦]\s?\d[\d,.]*\s?(?:k\b|m\b|million\b|thousand\b)?"
          r"|\b\d[\d,.]*\s?(?:k|usd|dollars|euros?|pounds|bucks|grand|btc|usdt)\b)")
_EARNINGS = re.compile(
    rf"(?i){_MONEY}\s*(?:/|per|an?|every|each)\s*(?:hour|hr|day|week|month|year)\b"
    rf"|{_MONEY}\s*(?:into|became|grew\s+to)\s*{_MONEY}"
    rf"|\b(?:earn\w*|made|make|making|profit\w*|income|paid|payouts?|withdr[ae]w\w*|returns?|received|"
    rf"got|invest\w*|cash\w*\s+out|bought)\b[^.!?\n]{{0,40}}?{_MONEY}"
)
# An advert's call to action: the imperative that tells the reader to act now, or how to reach the seller.
_CALL_TO_ACTION = re.compile(
    r"(?i)\b(?:(?:call|order|buy|shop|book|apply|register|sign\s+up|join|download|subscribe|claim|grab|get)"
    r"\s+(?:it\s+|yours\s+|one\s+)?(?:now|today|here)\b"
    r"|click\s+(?:here|the\s+link|below|my)\b"
    r"|(?:contact|call|text|email|e-mail|message|dm|whats\s?app|inbox)\s+(?:me|us|him|her|them)\s+"
    r"(?:on|at|via|through|now|today)\b"
    # The seller's own line: "call our support team at", "WhatsApp my office on".
    r"|(?:contact|call|text|email|e-mail|message|whats\s?app)\s+(?:our|my)\s+(?:\w+\s+){0,3}?(?:on|at|via)\s*(?=[+(\d])"
    r"|(?:visit|check\s+out)\s+(?:my|our)\s+(?:site|website|blog|page|channel|shop|store|profile)\b)"
)
# An offer's terms: a discount, free delivery, a code, a deadline.
_OFFER = re.compile(
    r"(?i)\b\d{1,2}\s?%\s+off\b|\bfree\s+(?:shipping|delivery|trial|consultation|quote)\b"
    r"|\b(?:promo|coupon|discount|voucher)\s+code\b|\bbuy\s+\d\s+get\s+\d\b|\blimited\s+(?:time|offer|stock)\b"
    r"|\bno\s+(?:credit\s+check|collateral|win,?\s+no\s+fee|prescription\s+needed)\b"
)
_EMAIL_IN_TEXT = re.compile(r"[\w.+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)


def _phones(text: str) -> Iterator[tuple[int, int]]:
    """Spans of phone numbers: any with a country code, North American ones, and valid UK numbers."""
    if len(_DIGITS.findall(text)) < MIN_PHONE_DIGITS:
        return
    seen: set[int] = set()
    # POSSIBLE accepts the fictional 555 numbers spammers and test sets use; UK national numbers need
    # VALID, or every year in a sentence ("2019") would read as a number.
    for region, leniency in (("US", phonenumbers.Leniency.POSSIBLE), ("GB", phonenumbers.Leniency.VALID)):
        for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
            if match.start not in seen and len(_DIGITS.findall(match.raw_string)) >= MIN_PHONE_DIGITS:
                seen.add(match.start)
                yield match.start, match.end


# -- all of them --------------------------------------------------------------------------------------

# The order is the order of the columns the spam head weighs; an artifact lists the ones it was trained
# with, so a new detector is ignored by older models until they are retrained.
SIGNALS: tuple[str, ...] = (
    "links", "shortener", "hidden_link", "messaging", "phone", "earnings", "contact_email", "handle_pitch",
    "call_to_action", "offer",
    "name_keywords", "name_link", "disposable_email", "website_keywords", "website_shortener",
)
# What a moderator reads beside each signal, in the console and the API's reasons.
DESCRIPTIONS: dict[str, str] = {
    "links": "links in the comment",
    "shortener": "a shortened or link-in-bio link",
    "hidden_link": "a link written to dodge filters, or a pointer to one (\"link in my bio\", \"tap my avatar\")",
    "messaging": "a messaging app to contact (WhatsApp, Telegram...)",
    "phone": "a phone number",
    "earnings": "a claim of earnings or returns",
    "contact_email": "an email address in the comment",
    "handle_pitch": "an @account to contact or credit",
    "call_to_action": "a call to act now or to contact the seller",
    "offer": "an offer's terms (a discount, a code, free delivery)",
    "name_keywords": "a name that reads as keywords or a business",
    "name_link": "a link or address as the name",
    "disposable_email": "a throwaway email address",
    "website_keywords": "a website named for what it sells",
    "website_shortener": "a shortened website address",
}


@lru_cache(maxsize=4096)
def _author_findings(author: Author) -> tuple[Found, ...]:
    """What the name, email and website give away; readers post again and again, so it is cached."""
    found: list[Found] = []
    name = author.name.strip()
    if name and name_as_keywords(name):
        found.append(Found("name_keywords", 1.0, "name", name))
    if name and (LINK.search(name) or "@" in name):
        found.append(Found("name_link", 1.0, "name", name))
    domain = author.email.rpartition("@")[2].strip().lower()
    if domain and domain in _DISPOSABLE_DOMAINS:
        found.append(Found("disposable_email", 1.0, "email", domain))
    website = author.website.strip()
    if website:
        host = host_of(website)
        word = _domain_words(host) if host else None
        if word:
            found.append(Found("website_keywords", 1.0, "website", host))
        if _on(host, SHORTENERS) or _on(host, MESSAGING_HOSTS):
            found.append(Found("website_shortener", 1.0, "website", host))
    return tuple(found)


# Words one of which a text must hold for a detector to be worth running (most comments hold none):
# `in` on the lower-cased text is a C-level substring search, where a pattern with a leading
# alternation tries every position of the text.
_LINK_GATE = ("http", "www", *(f".{tld}" for tld in ("com", "net", "org", "info", "biz", "ru", "xyz", "top", "io",
                                                    "ly", "co", "me", "club", "online", "site", "shop")))
_HIDDEN_GATE = ("dot", "[.]", "(.)", "{.}", "h t t", "bio", "profile", " name", " page", "avatar", "pfp",
                "highlight", " top", "w-w", "w w", "w.w")
_MESSAGING_GATE = ("whats", "watsap", "telegram", "viber", "wechat", "signal", "kik", "snapchat", "line id", "icq")
_ACTION_GATE = ("now", "today", "here", "click", "contact", "call", "text", "mail", "message", "dm", "whats",
                "inbox", "visit", "check out")
_OFFER_GATE = ("%", "free", "code", "buy", "limited", "credit", "collateral", "no win", "prescription")


def _has(lowered: str, needles: tuple[str, ...]) -> bool:
    # map over the bound method: a generator expression's frame per needle cost more than the searches.
    return any(map(lowered.__contains__, needles))


def _first(code: str, pattern: re.Pattern[str], text: str) -> Found | None:
    match = pattern.search(text)
    return None if match is None else Found(code, 1.0, "body", match.group(), match.start(), match.end())


def findings(text: str, author: Author = NO_AUTHOR) -> tuple[Found, ...]:
    """Every signal that fires on a comment, with its value and where it was seen."""
    found: list[Found | None] = []
    lowered = text.lower()
    chat: Found | None = None
    link_spans: list[tuple[int, int]] = []
    if _has(lowered, _LINK_GATE):
        links = list(LINK.finditer(text))
        link_spans = [match.span() for match in links]
        if links:
            first = links[0]
            found.append(Found("links", min(len(links), MAX_COUNTED_LINKS) / MAX_COUNTED_LINKS, "body",
                               first.group(), first.start(), first.end()))
            hosts = [(match, host_of(match.group())) for match in links]
            short = next((m for m, host in hosts if _on(host, SHORTENERS)), None)
            if short is not None:
                found.append(Found("shortener", 1.0, "body", short.group(), short.start(), short.end()))
            to_chat = next((m for m, host in hosts if _on(host, MESSAGING_HOSTS)), None)
            if to_chat is not None:
                chat = Found("messaging", 1.0, "body", to_chat.group(), to_chat.start(), to_chat.end())
    if _has(lowered, _HIDDEN_GATE):
        found.append(_first("hidden_link", _HIDDEN_LINK, text))
    digits = _DIGITS.search(text) is not None
    phones = list(_phones(text)) if digits else []
    if phones and link_spans:
        # Digits inside a link are its path or id (a report's reference number), not a number to call.
        phones = [(start, end) for start, end in phones
                  if not any(first <= start < last for first, last in link_spans)]
    if phones:
        start, end = phones[0]
        found.append(Found("phone", 1.0, "body", text[start:end], start, end))
    if chat is None and _has(lowered, _MESSAGING_GATE):
        # A messaging app named beside a way to reach someone: "WhatsApp +234...", "Telegram @...".
        app = _MESSAGING.search(text)
        if app is not None and (phones or _CONTACT.search(text)):
            chat = Found("messaging", 1.0, "body", app.group(), app.start(), app.end())
    found.append(chat)
    if digits:
        found.append(_first("earnings", _EARNINGS, text))
    if "@" in text:
        found.append(_first("contact_email", _EMAIL_IN_TEXT, text))
    if _has(lowered, _ACTION_GATE):
        found.append(_first("call_to_action", _CALL_TO_ACTION, text))
    if _has(lowered, _OFFER_GATE):
        found.append(_first("offer", _OFFER, text))
    if "@" in text or "#" in text:
        found.append(_first("handle_pitch", _HANDLE_PITCH, text) or _first("handle_pitch", _SELLING_HANDLE, text))
    if author != NO_AUTHOR:
        found.extend(_author_findings(author))
    return tuple(item for item in found if item is not None)


_COLUMN = {name: column for column, name in enumerate(SIGNALS)}


def vector(found: tuple[Found, ...], names: tuple[str, ...] = SIGNALS) -> NDArray[np.float64]:
    """The findings as one row of values in the order of names (signals not in names are left out)."""
    row = np.zeros(len(names))
    index = _COLUMN if names is SIGNALS else {name: column for column, name in enumerate(names)}
    for item in found:
        column = index.get(item.code)
        if column is not None:
            row[column] = max(row[column], item.value)
    return row


def matrix(texts: list[str], authors: list[Author] | None = None,
           names: tuple[str, ...] = SIGNALS) -> NDArray[np.float64]:
    """The signal values of many comments, one row each."""
    rows = np.zeros((len(texts), len(names)))
    for i, text in enumerate(texts):
        rows[i] = vector(findings(text, authors[i] if authors else NO_AUTHOR), names)
    return rows

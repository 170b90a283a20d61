"""A hand-written lexicon of English insults, profanity and slurs, as features the model weighs.

Why a lexicon beside learnt words: the public abuse sets each speak one register
(tweets' slang, a hate forum's politics, news comments' insults), so a word that
marks abuse in one is often rare in the others and gets little weight.  Each
lexicon word also emits one shared feature, which every source trains, so
"nitwit" in a news comment inherits what "idiot" and "bitch" taught elsewhere.
Training scales that feature up (training.LEXICON_WEIGHT), so it is not drowned by
the thousands of n-grams beside it.  The categories below only organise the list.

Written for this project from general knowledge of English abuse, not read off
the evaluation sets.  Words that ordinary news comments use in earnest (kill,
shoot, rape, Nazi, terrorist, racist, crazy, hell) are left out on purpose: the
model may still learn them in context, but the lexicon must not push them.
Identity terms (gay, queer, black, Muslim, Jew...) are never in it; slurs are.
A masked word counts as the word it spells ("f***ing", "a**hole", "dumb*ass"), as
readers and comment systems mask them; so does any word holding "fuck" or "shit".
"""

from __future__ import annotations

import functools
import re

# One feature for the whole lexicon: per-category features generalised less well across sources.
LEXICON_FEATURE = "<lex>"

# Exact word forms (after classifier.normalise_word: lower case, de-elongated, de-leeted).
_WORDS: dict[str, str] = {}
# Stems matched as prefixes: long and specific enough that no ordinary word starts with them.
_STEMS: dict[str, str] = {}

_CATEGORIES: dict[str, tuple[str, str]] = {
    "insult": (
        """ass arse asses dumb dumber dumbest dumbo dunce fool fools foolish loser losers jerk jerks clown
        clowns prick pricks liar liars troll trolls coward cowards cowardly creep creeps freak freaks
        psycho psychos sicko sickos pervert perverts perv pervs thug thugs ignorant pathetic
        clueless brainless mindless gutless spineless cuck cucks
        snowflake snowflakes sheeple bigot bigots bigoted hag hags fatso twit twits git gits prat prats
        pillock pillocks muppet muppets tosser tossers bellend bellends tard tards spaz dolt dolts dork dorks
        weirdo weirdos goon goons lowlife lowlifes scum idiocy stupidity ignorance""",
        """idiot idjit moron stupid imbecil cretin dumbass dumbf jackass asshole arsehole dickhead douche scumbag
        dirtbag sleazebag sleazeball dimwit halfwit nitwit numbskull knucklehead bonehead blockhead airhead
        buffoon baffoon ignoram lunatic psychopath sociopath nutjob nutcase wacko whacko crackpot hypocrit
        libtard retard trumptard subhuman degenerat pedophil paedophil""",
    ),
    "profanity": (
        """crap crappy craps damn damned goddamn dammit piss pissed pissing dick dicks cock cocks pussy
        pussies twat twats bollocks bugger wtf stfu gtfo ffs kys omfg bs""",
        """fuck fuk fck fcuk fuq motherf shit bullshit horseshit batshit cunt wank bitch beotch
        bastard""",
    ),
    "slur": (
        """hoe hoes ho fag fags dyke dykes tranny trannies kike kikes spic spics chink chinks gook gooks
        coon coons wetback wetbacks beaner beaners raghead ragheads towelhead towelheads paki pakis homo
        homos honky honkies redskin redskins gyp jigaboo""",
        """nigger nigga faggot whore slut skank""",
    ),
    "dehumanising": (
        """vermin parasite parasites leech leeches cockroach cockroaches mongrel mongrels""",
        """untermensch""",
    ),
}

for _category, (_words, _stems) in _CATEGORIES.items():
    _WORDS.update(dict.fromkeys(_words.split(), _category))
    _STEMS.update(dict.fromkeys(_stems.split(), _category))
_STEM_TUPLE: tuple[str, ...] = tuple(sorted(_STEMS, key=len, reverse=True))

CATEGORIES: tuple[str, ...] = tuple(_CATEGORIES)


# Inside a longer word these two are still the word (dipshit, dumbfuck); no English word holds them.
_INFIXES: tuple[str, ...] = ("fuck", "shit")
# What a masked word ("f***ing", "s**t", "a**hole") may stand for, letter for letter: the lexicon's
# whole words, and the common forms of its stems.
_MASKABLE_WORDS = """
    fuck fucks fucked fucker fuckers fucking motherfucker motherfucking shit shits shitty shithead
    bullshit cunt cunts bitch bitches bitchy bastard bastards asshole assholes arsehole dickhead
    idiot idiots idiotic moron morons moronic stupid stupidity retard retarded nigger niggers nigga
    faggot faggots whore whores slut sluts dumbass ass pussy
"""
_MASKABLE: tuple[str, ...] = tuple(sorted(_MASKABLE_WORDS.split()))


@functools.lru_cache(maxsize=1 << 16)
def category(word: str) -> str | None:
    """Return the lexicon category of a normalised word form, or None when it is not in the lexicon."""
    found = _WORDS.get(word)
    if found is not None:
        return found
    if word.startswith(_STEM_TUPLE):
        return next(_STEMS[stem] for stem in _STEM_TUPLE if word.startswith(stem))
    if any(infix in word for infix in _INFIXES):
        return "profanity"
    if "*" in word:
        return _unmasked_category(word)
    return None


def _unmasked_category(word: str) -> str | None:
    """The category of the lexicon word a masked word spells: "dumb*ass" as "dumbass", "f***ing" as "fucking"."""
    if not word.strip("*"):
        return None
    found = category(word.replace("*", ""))  # "*" as a separator: "dumb*ass"
    if found is not None:
        return found
    pattern = _mask_pattern(word)
    return next((category(candidate) for candidate in _MASKABLE if pattern.fullmatch(candidate)), None)


def _mask_pattern(word: str) -> re.Pattern[str]:
    # classifier.normalise_word shortens any run of three or more "*" to two, so "**" stands for 2 or more letters.
    return re.compile("".join(
        re.escape(part) if not part.startswith("*") else ("." if len(part) == 1 else ".{2,}")
        for part in re.findall(r"\*+|[^*]+", word)
    ))


# Words of promotion, for the spam head, chosen as the lexicon is: from general knowledge of comment
# and message spam, not read off the data.  Only words that are almost never anything but promotion:
# words that news comments use in earnest (free, win, prize, deal, offer, earn, followers, casino,
# crypto, pharmacy, WhatsApp) are left out, for a comment about a casino vote is not spam.  So are
# subscribe and channel: YouTube's spam says "subscribe to my channel", but a newspaper's readers
# talk about their subscription, the paywall and TV channels ("Subscribers deserve better than this
# paywall" scored 0.95 for spam while they were here).  Like the lexicon, these words share one
# feature, so a rare one inherits what the common ones taught.
PROMO_FEATURE = "<promo>"
_PROMO_WORDS = """
    promo promotion coupon coupons discount discounts voucher vouchers giftcard freebie freebies
    viagra cialis ringtone ringtones dm inbox
"""
PROMO_TERMS: frozenset[str] = frozenset(_PROMO_WORDS.split())


def in_lexicon(word: str) -> bool:
    """Return whether a normalised word form is in the lexicon."""
    return category(word) is not None


# Words that name who a person is.  The model never sees them (the tokenizer turns each into
# IDENTITY_TOKEN, which no feature contains): in the public sets they co-occur with hate, so a
# model that could see them would learn that "gay" or "Muslim" is abusive and hold every reader
# who says who they are.  Hate against a group is then found by what is said about it.
IDENTITY_TOKEN = "<identity>"
_IDENTITY_WORDS = """
    gay gays lesbian lesbians bisexual bisexuals transgender transgendered trans transsexual
    transsexuals queer queers homosexual homosexuals homosexuality heterosexual heterosexuals lgbt
    lgbtq lgbtqia nonbinary intersex asexual muslim muslims moslem moslems islam islamic jew jews
    jewish judaism christian christians christianity catholic catholics protestant protestants
    evangelical evangelicals mormon mormons hindu hindus hinduism buddhist buddhists sikh sikhs
    atheist atheists black blacks white whites african africans asian asians latino latinos latina
    latinas latinx hispanic hispanics mexican mexicans arab arabs chinese indian indians native
    natives indigenous aboriginal immigrant immigrants refugee refugees migrant migrants nigerian
    nigerians somali somalis syrian syrians pakistani pakistanis afghan afghans iranian iranians
    iraqi iraqis palestinian palestinians israeli israelis korean koreans japanese filipino
    filipinos vietnamese haitian haitians jamaican jamaicans disabled deaf woman women female
    females girl girls man men male males boy boys american americans canadian canadians european
    europeans british english scottish welsh irish french german germans italian italians spanish
    portuguese polish russian russians ukrainian ukrainians greek greeks turkish turk turks kurd
    kurds kurdish egyptian egyptians ethiopian ethiopians eritrean eritreans sudanese somalian
    kenyan kenyans ghanaian ghanaians congolese cuban cubans venezuelan venezuelans colombian
    colombians dominican dominicans ricans guatemalan guatemalans salvadoran salvadorans bangladeshi
    bangladeshis lankan lankans tibetan tibetans uyghur uyghurs rohingya roma australian australians
"""
IDENTITY_TERMS: frozenset[str] = frozenset(_IDENTITY_WORDS.split())


def is_identity(word: str) -> bool:
    """Return whether a normalised word form names an identity (see IDENTITY_TERMS)."""
    return word in IDENTITY_TERMS

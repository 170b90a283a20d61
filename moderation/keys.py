"""Redis key names: every key the service writes is named here and nowhere else."""

from __future__ import annotations

import os
from dataclasses import dataclass

QUEUES = ("pending", "reported", "rejected", "approved")
# The queues moderators claim from, which keep an index of their items' scores (see `Keys.queue_scores`).
SCORED_QUEUES = ("pending", "reported")
HEADS = ("spam", "abuse")
# The braces are a Redis Cluster hash tag: every key lands in one slot, so each Lua script and
# transaction, which must see all of a comment's keys at once, also runs on a cluster.
DEFAULT_PREFIX = "{mod}:"


@dataclass(frozen=True, slots=True)
class Keys:
    """Builds key names under one prefix, so several deployments can share a Redis server."""

    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        # Redis Cluster's hash tag is what lies between a key's first "{" and the first "}" after it,
        # if not empty. A "{" the prefix leaves open (or closes at once) would let whatever follows,
        # an article id say, choose the key's slot.
        opened = self.prefix.find("{")
        if opened >= 0 and self.prefix.find("}", opened + 1) <= opened + 1:
            raise ValueError(f"key prefix {self.prefix!r}: a '{{' must open a non-empty hash tag, as in {{mod}}:")

    def comment(self, comment_id: str) -> str:
        return f"{self.prefix}comment:{comment_id}"

    def article_published(self, article_id: str) -> str:
        # An article id is any printable text (a path, a URL, braces included). Redis Cluster hashes
        # only a key's first {...}, which is the prefix's hash tag (see __post_init__), so an id
        # cannot move the key to another slot; no other key starts with "article:", so no id can
        # name another key.
        return f"{self.prefix}article:{article_id}:published"

    def queue(self, name: str) -> str:
        return f"{self.prefix}queue:{name}"

    def queue_scores(self, name: str, head: str) -> str:
        """One head's scores of a queue's items, as members '<score in millionths, 7 digits>:<id>' at score 0.

        Lexical order is then (score, id), so `sort=uncertain` walks outward from any threshold with
        ZRANGEBYLEX, and a policy change needs no reindexing.
        """
        return f"{self.prefix}queue:{name}:by-{head}"

    def scored_queue_keys(self, name: str) -> list[str]:
        """The score indexes of one queue, spam's then abuse's."""
        return [self.queue_scores(name, head) for head in HEADS]

    @property
    def queue_scores_built(self) -> str:
        """Set when a site first asks for sort=uncertain: from then on the score indexes are kept
        ("building" while the items queued before are indexed, then the time that was done)."""
        return f"{self.prefix}queue-scores-built"

    @property
    def learn_runs(self) -> str:
        """Each `moderation learn` run: when, the decisions, the figures, the verdict (a capped stream)."""
        return f"{self.prefix}learn-runs"

    @property
    def learn_lock(self) -> str:
        """Held by the one `moderation learn` that is running, with a TTL renewed while it runs."""
        return f"{self.prefix}learn-lock"

    def author(self, author_key: str) -> str:
        return f"{self.prefix}author:{author_key}"

    def author_comments(self, author_key: str) -> str:
        return f"{self.prefix}author:{author_key}:comments"

    def standing(self, identity: str) -> str:
        """An author's standing, its history and reputation marks, keyed by the normalised email's key."""
        return f"{self.prefix}standing:{identity}"

    def standings(self, state: str) -> str:
        """The identities a moderator set in one standing (members at score 0, read in lexical order)."""
        return f"{self.prefix}standings:{state}"

    def author_record(self, identity: str, kind: str) -> str:
        """Comment ids a moderator approved or rejected (`kind`), scored by when: the reputation window's record."""
        return f"{self.prefix}record:{identity}:{kind}"

    def author_notes(self, identity: str) -> str:
        """Moderators' notes on an author: note id -> JSON."""
        return f"{self.prefix}notes:{identity}"

    def author_aliases(self, identity: str) -> str:
        """The author keys of addresses that normalise to this identity but differ from it (gmail dots, +tags)."""
        return f"{self.prefix}aliases:{identity}"

    def linked_network(self, network_key: str) -> str:
        """A network a banned or suspended author used within a day, by its keyed hash: who used it."""
        return f"{self.prefix}net:{network_key}"

    def dsa_day(self, day: str) -> str:
        """One UTC day's counts for the transparency report (DSA Art. 15, 24): field -> count."""
        return f"{self.prefix}dsa:{day}"

    def dsa_durations(self, day: str, kind: str) -> str:
        """Seconds from a notice or appeal to its decision, for the report's medians (a list a day and kind)."""
        return f"{self.prefix}dsa:{day}:{kind}-seconds"

    def notice(self, notice_id: str) -> str:
        return f"{self.prefix}notice:{notice_id}"

    def notice_token(self, token_hash: str) -> str:
        """A notifier's token (its SHA-256) -> the notice it was issued for."""
        return f"{self.prefix}notice-token:{token_hash}"

    def appeal(self, appeal_id: str) -> str:
        return f"{self.prefix}appeal:{appeal_id}"

    def appeal_of(self, comment_id: str, appellant: str) -> str:
        """The one appeal an appellant (the author, or a notice's notifier) may make on a comment's decision."""
        return f"{self.prefix}appeal-of:{comment_id}:{appellant}"

    def author_articles(self, author_key: str) -> str:
        """The articles an author commented on lately, scored by when: what the burst rule counts."""
        return f"{self.prefix}author:{author_key}:articles"

    def audit(self, comment_id: str) -> str:
        """A comment's history as it was kept before it moved into the comment's hash (read until migrated)."""
        return f"{self.prefix}audit:{comment_id}"

    def idempotency(self, key: str) -> str:
        return f"{self.prefix}idem:{key}"

    def author_text(self, author_key: str, text_fingerprint: str) -> str:
        return f"{self.prefix}dup:{author_key}:{text_fingerprint}"

    def text_authors(self, text_fingerprint: str) -> str:
        return f"{self.prefix}dup:{text_fingerprint}"

    @property
    def imported_decisions(self) -> str:
        return f"{self.prefix}imported-decisions"

    @property
    def perspective_examples(self) -> str:
        """Comments analyzed through the Perspective surface with doNotStore false: unlabelled, capped."""
        return f"{self.prefix}perspective-examples"

    @property
    def all_comments(self) -> str:
        return f"{self.prefix}comments"

    @property
    def origins(self) -> str:
        """Comment ids by time, for purging network data: before the purge walked the index of all comments."""
        return f"{self.prefix}origins"

    @property
    def origins_purged(self) -> str:
        """The newest comment whose network data the purge has forgotten (see purge_origins.lua)."""
        return f"{self.prefix}origins-purged"

    @property
    def events(self) -> str:
        return f"{self.prefix}events"

    @property
    def stats(self) -> str:
        return f"{self.prefix}stats"

    @property
    def policy(self) -> str:
        return f"{self.prefix}policy"

    @property
    def policy_version(self) -> str:
        """A token `PolicyStore.update` changes with the policy, so workers know to reload theirs."""
        return f"{self.prefix}policy-version"

    @property
    def article_modes(self) -> str:
        return f"{self.prefix}article-modes"

    @property
    def article_languages(self) -> str:
        """Articles whose comments are in a language other than the site's: article id -> ISO 639-1 code."""
        return f"{self.prefix}article-languages"

    @property
    def moderators(self) -> str:
        return f"{self.prefix}moderators"

    @property
    def moderator_names(self) -> str:
        return f"{self.prefix}moderator-names"

    @property
    def api_keys(self) -> str:
        return f"{self.prefix}api-keys"

    @property
    def api_key_names(self) -> str:
        return f"{self.prefix}api-key-names"

    @property
    def policy_audit(self) -> str:
        return f"{self.prefix}policy-audit"

    @property
    def dsa_tdb_sent(self) -> str:
        """The puids of the statements of reasons the EU DSA Transparency Database accepted from us."""
        return f"{self.prefix}dsa:tdb-sent"

    @property
    def dsa_tdb_lock(self) -> str:
        """Held by the one `moderation dsa submit` running, so two runs never send the same statement."""
        return f"{self.prefix}dsa:tdb-lock"


def keys_from_environment() -> Keys:
    """Key names under MODERATION_KEY_PREFIX, else the default prefix."""
    return Keys(os.environ.get("MODERATION_KEY_PREFIX", DEFAULT_PREFIX))

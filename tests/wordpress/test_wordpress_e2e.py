"""The WordPress plugin end to end: Debian's WordPress on MariaDB under PHP's built-in server, the plugin
installed from the zip scripts/build-wordpress-zip builds by WordPress's own Plugin_Upgrader (what Plugins, Upload
Plugin runs), this service over real HTTP, webhooks delivered by the real worker.

The database is MariaDB at 127.0.0.1:3306 as root without a password (or MODERATION_TEST_MYSQL_*); where none
answers there, a private mariadbd (Debian's mariadb-server) started in a temporary folder. Skipped, with the
reason, where PHP (with mysqli), WordPress (Debian's `wordpress` package) or both ways to MariaDB are missing.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from redis import Redis
from werkzeug.serving import BaseWSGIServer, make_server

from moderation.api_keys import ApiKeys
from moderation.decisions import human_decisions
from moderation.keys import Keys
from moderation.moderators import Moderators
from moderation.policy_store import PolicyStore
from moderation.store import CommentStore
from moderation.webhooks import WebhookWorker, WorkerSettings, add_subscription, recent_deliveries

ROOT = Path(__file__).resolve().parents[2]
WORDPRESS = Path(os.environ.get("MODERATION_TEST_WORDPRESS", "/usr/share/wordpress"))
PHP = shutil.which("php")
MYSQL = shutil.which("mariadb") or shutil.which("mysql")
DB_HOST = os.environ.get("MODERATION_TEST_MYSQL_HOST", "127.0.0.1")
DB_PORT = int(os.environ.get("MODERATION_TEST_MYSQL_PORT", "3306"))
DB_USER = os.environ.get("MODERATION_TEST_MYSQL_USER", "root")
DB_PASSWORD = os.environ.get("MODERATION_TEST_MYSQL_PASSWORD", "")

CIVIL = "Thanks for the clear reporting on the council budget; I hope they publish the full figures."
SPAM = "WIN a FREE iPhone!!! Click http://bit.ly/free-prize now to claim your cash prize, text WIN to 80086"
ABUSE = "Shut up, you clown."
HARSH = "This is a stupid take, and the author is clueless."
FAST = WorkerSettings(timeout=5.0, max_attempts=5, backoff_base=0.2, backoff_factor=2.0, jitter=0.0,
                      lease_seconds=10.0, claim_idle_seconds=1.0, reclaim_interval=0.5, block_ms=50)


def _missing() -> str | None:
    """Why this machine cannot run the test, or None."""
    if PHP is None:
        return "needs PHP (Debian: apt-get install php-cli php-mysql php-curl)"
    modules = subprocess.run([PHP, "-m"], capture_output=True, text=True, check=False).stdout.lower().split()
    if "mysqli" not in modules:
        return "needs PHP's mysqli extension (Debian: apt-get install php-mysql)"
    if not (WORDPRESS / "wp-settings.php").is_file():
        return f"needs WordPress at {WORDPRESS} (Debian: apt-get install wordpress)"
    if MYSQL is None:
        return "needs the MariaDB client (Debian: apt-get install mariadb-client)"
    return None


@dataclass(frozen=True)
class Database:
    """A MariaDB server and the account WordPress uses on it."""

    host: str
    port: int
    user: str
    password: str

    def sql(self, statement: str) -> subprocess.CompletedProcess[str]:
        command = [str(MYSQL), f"-h{self.host}", f"-P{self.port}", f"-u{self.user}", "-e", statement]
        env = {**os.environ, "MYSQL_PWD": self.password}
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=30)

    def answers(self) -> bool:
        return _listening(self.port, self.host) and self.sql("SELECT 1").returncode == 0


MISSING = _missing()
pytestmark = [
    pytest.mark.skipif(MISSING is not None, reason=MISSING or ""),
    # One Redis is enough here: the cluster paths are the service's, tested elsewhere.
    pytest.mark.parametrize("redis_server", ["single"], indirect=True),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Service:
    """The Flask app on a fixed loopback port, stopped and started again on the same one."""

    def __init__(self, app: Flask) -> None:
        self.app, self.port = app, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.httpd: BaseWSGIServer | None = None
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.httpd = make_server("127.0.0.1", self.port, self.app, threaded=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.httpd is not None and self.thread is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(5)
            self.httpd = None


@dataclass
class Site:
    """A WordPress site under PHP's built-in server, with a database of its own."""

    root: Path
    url: str
    database: str
    app_password: str
    admin_password: str
    plugin_zip: str
    process: subprocess.Popen[bytes]

    def php(self, code: str, before_load: str = "") -> Any:
        """Run PHP inside WordPress (wp-load.php) and return what it echoes as JSON."""
        script = self.root / f"e2e-{secrets.token_hex(4)}.php"
        host = urllib.parse.urlsplit(self.url).netloc
        script.write_text(
            "<?php\n$_SERVER['HTTP_HOST'] = " + json.dumps(host) + "; $_SERVER['REQUEST_URI'] = '/';\n"
            + before_load + "require __DIR__ . '/wp-load.php';\n" + code
        )
        try:
            done = subprocess.run([str(PHP), str(script)], capture_output=True, text=True, timeout=60, check=False,
                              env={**os.environ, "E2E_ADMIN_PASSWORD": self.admin_password,
                                   "E2E_PLUGIN_ZIP": self.plugin_zip})
        finally:
            script.unlink()
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)

    def comment(self, comment_id: int) -> dict[str, Any]:
        """A comment's WordPress status and the plugin's meta."""
        return dict(self.php(
            f"$c = get_comment({comment_id});\n"
            "echo wp_json_encode(array('status' => wp_get_comment_status($c), 'meta' => array_map(\n"
            "  fn($v) => maybe_unserialize($v[0]), get_comment_meta($c->comment_ID))));\n"
        ))

    def latest_comment_id(self) -> int:
        return int(self.php("echo wp_json_encode((int) get_comments(array('status' => 'any', 'number' => 1, "
                            "'orderby' => 'comment_ID', 'order' => 'DESC', 'fields' => 'ids'))[0]);"))

    def post_comment(self, body: str, email: str, name: str = "Ann Reader") -> int:
        """A reader's post through wp-comments-post.php, as the theme's form sends it; the new comment's id."""
        before = self.latest_comment_id()
        form = urllib.parse.urlencode({"comment_post_ID": "1", "author": name, "email": email,
                                       "url": "", "comment": body, "comment_parent": "0"}).encode()
        request = urllib.request.Request(f"{self.url}/wp-comments-post.php", data=form, headers={
            "Referer": f"{self.url}/?p=1", "User-Agent": "Mozilla/5.0 (e2e reader)"})
        opener = urllib.request.build_opener(NoRedirects, urllib.request.HTTPCookieProcessor(CookieJar()))
        try:
            opener.open(request, timeout=30).close()
        except urllib.error.HTTPError as answer:
            with answer:
                assert answer.code == 302, answer.read()[:2000]
        after = self.latest_comment_id()
        assert after > before, "WordPress stored no comment"
        return after

    def rest(self, method: str, route: str, body: dict[str, Any]) -> tuple[int, Any]:
        """WordPress's REST API as the admin, with an application password."""
        request = urllib.request.Request(
            f"{self.url}/?rest_route={urllib.parse.quote(route)}", method=method, data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": "Basic " + __import__("base64").b64encode(
                f"admin:{self.app_password}".encode()).decode()})
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as answer:
            with answer:
                return answer.code, json.loads(answer.read() or b"null")

    def admin(self) -> urllib.request.OpenerDirector:
        """A browser signed in to wp-admin as the admin (wp-login.php, cookies)."""
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        browser.open(f"{self.url}/wp-login.php", timeout=30).close()  # sets WordPress's test cookie
        form = urllib.parse.urlencode({"log": "admin", "pwd": self.admin_password, "testcookie": "1",
                                       "redirect_to": f"{self.url}/wp-admin/"}).encode()
        with browser.open(f"{self.url}/wp-login.php", data=form, timeout=30) as answer:
            assert "/wp-admin/" in answer.url, answer.read()[:2000]
        return browser

    def cron(self) -> None:
        with urllib.request.urlopen(f"{self.url}/wp-cron.php", timeout=60) as answer:
            assert answer.status == 200


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def wait_for(check: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


CONFIG = """<?php
define('DB_NAME', {database});
define('DB_USER', {user});
define('DB_PASSWORD', {password});
define('DB_HOST', {host});
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}
$table_prefix = 'wp_';
define('WP_HOME', {url});
define('WP_SITEURL', {url});
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('FS_METHOD', 'direct');
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_DEBUG', true);
define('WP_DEBUG_DISPLAY', false);
define('WP_DEBUG_LOG', __DIR__ . '/debug.log');
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
"""

# The test's own site rules: readers post from one address, faster than WordPress's flood check allows,
# and retries come after a second instead of a minute.
MU_PLUGIN = """<?php
add_filter('comment_flood_filter', '__return_false');
add_filter('newsroom_moderation_retry_delay', function () { return 1; });
"""

INSTALL = """
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
require_once ABSPATH . 'wp-admin/includes/class-wp-upgrader.php';
$installed = wp_install('Newsroom test', 'admin', 'admin@example.org', false, '', getenv('E2E_ADMIN_PASSWORD'));
// As Plugins, Add New, Upload Plugin does with the zip.
$upgrader = new Plugin_Upgrader(new Automatic_Upgrader_Skin());
$result = $upgrader->install(getenv('E2E_PLUGIN_ZIP'));
if (true !== $result) { fwrite(STDERR, print_r($upgrader->skin->get_upgrade_messages(), true)); exit(1); }
$activated = activate_plugin('newsroom-moderation/newsroom-moderation.php');
if (is_wp_error($activated)) { fwrite(STDERR, $activated->get_error_message()); exit(1); }
$app = WP_Application_Passwords::create_new_application_password($installed['user_id'], array('name' => 'e2e'));
echo wp_json_encode(array('app_password' => $app[0]));
"""


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """The configured MariaDB if it answers, else a private mariadbd on a free port, else a skip."""
    configured = Database(DB_HOST, DB_PORT, DB_USER, DB_PASSWORD)
    if configured.answers():
        yield configured
        return
    server, install = shutil.which("mariadbd") or "/usr/sbin/mariadbd", shutil.which("mariadb-install-db")
    if not (Path(server).is_file() and install):
        pytest.skip(f"needs MariaDB on {DB_HOST}:{DB_PORT} (user {DB_USER!r}, MODERATION_TEST_MYSQL_*), or "
                    "Debian's mariadb-server to start a private one")
    folder = tmp_path_factory.mktemp("mariadb")
    user = getpass.getuser()
    subprocess.run([install, "--no-defaults", f"--datadir={folder / 'data'}", "--skip-test-db",
                    "--auth-root-authentication-method=normal", f"--user={user}"],
                   capture_output=True, check=True, timeout=120)
    private = Database("127.0.0.1", free_port(), "root", "")
    log = (folder / "mariadbd.log").open("wb")
    process = subprocess.Popen([server, "--no-defaults", f"--datadir={folder / 'data'}", f"--user={user}",
                                f"--socket={folder / 'mariadbd.sock'}", f"--pid-file={folder / 'mariadbd.pid'}",
                                "--bind-address=127.0.0.1", f"--port={private.port}"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(private.answers, 60, "the private mariadbd")
        yield private
    finally:
        process.terminate()
        process.wait(30)
        log.close()


@pytest.fixture
def site(tmp_path: Path, mariadb: Database) -> Iterator[Site]:
    """A fresh WordPress 6.1 with the plugin installed from its zip and activated, under `php -S`."""
    root = tmp_path / "wordpress"
    # A copy, not a link: WordPress finds its root (ABSPATH) from where its files really are.
    shutil.copytree(WORDPRESS, root, symlinks=True, ignore=shutil.ignore_patterns("wp-content", "wp-config.php"))
    content = root / "wp-content"
    (content / "themes").mkdir(parents=True)
    for theme in (WORDPRESS / "wp-content" / "themes").iterdir():
        (content / "themes" / theme.name).symlink_to(theme.resolve())
    (content / "mu-plugins").mkdir()
    (content / "mu-plugins" / "e2e.php").write_text(MU_PLUGIN)
    (content / "plugins").mkdir()
    built = subprocess.run([str(ROOT / "scripts" / "build-wordpress-zip"), str(tmp_path / "plugin.zip")],
                           capture_output=True, text=True, check=True)

    database = f"nm_e2e_{secrets.token_hex(4)}"
    assert mariadb.sql(f"CREATE DATABASE {database} CHARACTER SET utf8mb4").returncode == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    salts = "\n".join(f"define('{name}', '{secrets.token_hex(32)}');" for name in (
        "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT",
        "LOGGED_IN_SALT", "NONCE_SALT"))
    (root / "wp-config.php").write_text(CONFIG.format(
        database=json.dumps(database), user=json.dumps(mariadb.user), password=json.dumps(mariadb.password),
        host=json.dumps(f"{mariadb.host}:{mariadb.port}"), url=json.dumps(url), salts=salts))
    # Several workers: WordPress calls the service while the service's webhooks call WordPress.
    env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "4"}
    log = (tmp_path / "php-server.log").open("wb")
    process = subprocess.Popen([str(PHP), "-S", f"127.0.0.1:{port}", "-t", str(root)], stdout=log,
                               stderr=subprocess.STDOUT, env=env, cwd=root)
    wordpress = Site(root, url, database, "", secrets.token_urlsafe(18), built.stdout.strip(), process)
    try:
        wait_for(lambda: _listening(port), 10, "php -S")
        wordpress.app_password = wordpress.php(INSTALL, "define('WP_INSTALLING', true);\n")["app_password"]
        yield wordpress
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        mariadb.sql(f"DROP DATABASE IF EXISTS {database}")
        debug = root / "debug.log"
        if debug.exists():
            # WordPress 6.1's own deprecation notices under PHP 8.2 are noise; anything else is shown.
            print("\n".join(line for line in debug.read_text().splitlines() if "PHP Deprecated" not in line))


def _listening(port: int, host: str = "127.0.0.1") -> bool:
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


@pytest.fixture
def service(app: Flask) -> Iterator[Service]:
    running = Service(app)
    running.start()
    yield running
    running.stop()


@pytest.fixture
def webhook_worker(redis: Redis) -> Iterator[None]:
    stop = threading.Event()
    worker = WebhookWorker(redis, Keys(), FAST, consumer="e2e")
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)


def delivered(redis: Redis, comment_id: str, event: str) -> bool:
    """Whether the worker delivered this event of this comment (a 2xx from WordPress)."""
    return any(row["outcome"] == "delivered" and row.get("type") == event and row.get("comment_id") == comment_id
               for row in recent_deliveries(redis, Keys(), 1000))


def privacy(site: Site, kind: str, email: str) -> Any:
    """Page 1 of the plugin's personal-data exporter or eraser, called as Tools, Export/Erase calls it."""
    return site.php(f"$found = apply_filters('wp_privacy_personal_data_{kind}', array());\n"
                    f"echo wp_json_encode(call_user_func($found['newsroom-moderation']['callback'], '{email}', 1));")


def set_options(site: Site, options: dict[str, str]) -> None:
    site.php("".join(f"update_option({json.dumps(k)}, {json.dumps(v)});\n" for k, v in options.items())
             + "echo '1';")


def test_a_wordpress_site_moderates_through_the_service(
    site: Site, service: Service, redis: Redis, webhook_worker: None,
) -> None:
    keys = Keys()
    PolicyStore(redis, keys).update({"hold_new_authors": False}, "e2e")
    api_key = ApiKeys(redis, keys).add("newsroom-wp")
    subscription = add_subscription(redis, keys, f"{site.url}/?rest_route=/newsroom-moderation/v1/events")
    set_options(site, {"newsroom_moderation_url": service.url, "newsroom_moderation_api_key": api_key,
                       "newsroom_moderation_webhook_secret": subscription.secret})
    moderator = {"Authorization": f"Bearer {Moderators(redis, keys).add('alice', 'moderator')}",
                 "Content-Type": "application/json"}

    def ours(comment_id: int) -> dict[str, str]:
        our_id = site.comment(comment_id)["meta"]["_newsroom_moderation_id"]
        return redis.hgetall(keys.comment(our_id))  # type: ignore[return-value]

    # Three readers' posts: WordPress's status follows the service's verdict, the reader's origin kept.
    clean = site.post_comment(CIVIL, "ann@example.com")
    spam = site.post_comment(SPAM, "prizes@example.net", name="Prize Desk")
    abusive = site.post_comment(ABUSE, "rude@example.org", name="Rude")
    assert site.comment(clean)["status"] == "approved"
    assert site.comment(spam)["status"] == "spam"
    held = site.comment(abusive)
    assert held["status"] == "unapproved" and "abuse" in held["meta"]["_newsroom_moderation_reasons"]
    assert held["meta"]["_newsroom_moderation_scores"]["abuse"] >= 0.5
    record = ours(clean)
    assert (record["status"], record["site"], record["ip"]) == ("published", "newsroom-wp", "127.0.0.1")
    assert record["user_agent"] == "Mozilla/5.0 (e2e reader)" and record["referer"] == f"{site.url}/?p=1"
    assert record["article_id"] == site.php("echo wp_json_encode(get_permalink(1));")
    assert record["language"] == "en"  # the plugin sends the site's locale (en_US) as the hint
    assert ours(spam)["status"] == "rejected"

    # A moderator rejects the held comment in our API: the signed webhook moves it in WordPress.
    our_abusive = held["meta"]["_newsroom_moderation_id"]
    request = urllib.request.Request(f"{service.url}/v1/review/{our_abusive}/decision", method="POST",
                                     data=json.dumps({"action": "reject", "reason": "abuse"}).encode(),
                                     headers=moderator)
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["status"] == "rejected"
    wait_for(lambda: site.comment(abusive)["status"] == "trash", what="the rejection to reach WordPress")

    # wp-admin's comments list shows our verdict and links to the comment in our console.
    cell = site.php(f"ob_start(); Newsroom_Moderation_Admin::column('newsroom_moderation', {abusive});"
                    " echo wp_json_encode(ob_get_clean());")
    assert "rejected" in cell and f"{service.url}/console/comments/{our_abusive}" in cell

    # An approval in wp-admin (WordPress's REST API, an application password) becomes our human decision.
    doubtful = site.post_comment(HARSH, "critic@example.com", name="Critic")
    assert site.comment(doubtful)["status"] == "unapproved"
    status, answer = site.rest("POST", f"/wp/v2/comments/{doubtful}", {"status": "approved"})
    assert status == 200 and answer["status"] == "approved", answer
    record = ours(doubtful)
    assert (record["status"], record["decided_by"]) == ("published", "wordpress:admin@newsroom-wp")
    learned = [d for d in human_decisions(CommentStore(redis, keys)) if d.comment_id == record["id"]]
    assert [(d.label, d.decided_by) for d in learned] == [("ok", "wordpress:admin@newsroom-wp")]
    # Its webhook comes back and changes nothing: one decision, and WordPress still approved.
    wait_for(lambda: delivered(redis, record["id"], "comment.decided"), what="the approval's webhook")
    assert site.comment(doubtful)["status"] == "approved"
    events: list[tuple[str, dict[str, str]]] = redis.xrange(keys.events)  # type: ignore[assignment]
    decided = [fields for _, fields in events
               if fields.get("event") == "decided" and fields.get("comment_id") == record["id"]]
    assert len(decided) == 1

    # An admin who saw our rejection and reverses it in wp-admin overrides it (sent again with its version).
    status, answer = site.rest("POST", f"/wp/v2/comments/{abusive}", {"status": "approved"})
    assert status == 200 and answer["status"] == "approved", answer
    assert (ours(abusive)["status"], ours(abusive)["decided_by"]) == ("published", "wordpress:admin@newsroom-wp")

    # Both sides decide at once (WordPress has not heard of our rejection yet: its webhook secret is wrong for
    # now): our decision came first, its 409 says so, and WordPress takes it.
    raced = site.post_comment(ABUSE, "rude2@example.org", name="Rude Two")
    assert site.comment(raced)["status"] == "unapproved"
    set_options(site, {"newsroom_moderation_webhook_secret": "whsec_not-the-one"})
    our_raced = site.comment(raced)["meta"]["_newsroom_moderation_id"]
    request = urllib.request.Request(f"{service.url}/v1/review/{our_raced}/decision", method="POST",
                                     data=json.dumps({"action": "reject", "reason": "spam"}).encode(),
                                     headers=moderator)
    urllib.request.urlopen(request, timeout=10).close()
    status, answer = site.rest("POST", f"/wp/v2/comments/{raced}", {"status": "approved"})
    assert status == 200
    after = site.comment(raced)
    assert after["status"] == "spam" and "alice" in after["meta"]["_newsroom_moderation_error"]
    assert ours(raced)["status"] == "rejected" and ours(raced)["decided_by"] == "alice"
    set_options(site, {"newsroom_moderation_webhook_secret": subscription.secret})

    # Tools, Export and Erase Personal Data reach our copy of the author's comments.
    exported = privacy(site, "exporters", "ann@example.com")
    values = {item["name"]: item["value"] for item in exported["data"][0]["data"]}
    assert exported["done"] and values["body"] == CIVIL and values["email"] == "ann@example.com"
    erased = privacy(site, "erasers", "ann@example.com")
    assert erased["items_removed"] is True
    assert "ann@example.com" not in ours(clean)["email"] and ours(clean)["ip"] == ""

    # The settings page's "test connection": the service answers and knows the key.
    assert site.php("echo wp_json_encode((new Newsroom_Moderation_Client())->test_connection());")[0] is True
    assert site.php("echo wp_json_encode((new Newsroom_Moderation_Client(null, 'wrong'))->test_connection());") == [
        False, "the service answers, but does not know this API key"]

    # The service stops: a post is held, never published unchecked, and sent once by WP-Cron when it is back.
    service.stop()
    late = site.post_comment("A calm question: when does the council vote on the budget?", "late@example.com")
    waiting = site.comment(late)
    assert waiting["status"] == "unapproved" and "_newsroom_moderation_retry" in waiting["meta"]
    assert "_newsroom_moderation_id" not in waiting["meta"]
    service.start()

    def sent_by_cron() -> bool:
        site.cron()  # the retry is due a second after the failure (the test's filter): until then, no-op
        return "_newsroom_moderation_retry" not in site.comment(late)["meta"]

    wait_for(sent_by_cron, 15, "WP-Cron to send the held comment")
    settled = site.comment(late)
    assert settled["status"] == "approved" and "_newsroom_moderation_retry" not in settled["meta"]
    assert ours(late)["body"].startswith("A calm question")
    site.cron()  # nothing left to send: no second copy
    late_copies = [c for c in (redis.hgetall(k) for k in redis.scan_iter(keys.comment("*")))
                   if c.get("email") == "late@example.com"]
    assert len(late_copies) == 1


def test_wp_admin_settings_test_connection_and_comments_column(
    site: Site, service: Service, redis: Redis,
) -> None:
    """Through wp-admin as a browser sees it: the settings page, its nonce-checked button, the comments list."""
    keys = Keys()
    PolicyStore(redis, keys).update({"hold_new_authors": False}, "e2e")
    set_options(site, {"newsroom_moderation_url": service.url, "newsroom_moderation_api_key": "mk_wrong"})
    browser = site.admin()
    settings = f"{site.url}/wp-admin/options-general.php?page=newsroom-moderation"

    def press_test_connection() -> str:
        with browser.open(settings, timeout=30) as answer:
            page = answer.read().decode()
        for name in ("newsroom_moderation_url", "newsroom_moderation_api_key", "newsroom_moderation_webhook_secret"):
            assert f'name="{name}"' in page
        assert "/?rest_route=/newsroom-moderation/v1/events" in page or "/wp-json/newsroom-moderation/v1/events" in page
        nonce = page.split('name="_wpnonce" value="')[-1].split('"')[0]
        form = urllib.parse.urlencode({"action": "newsroom_moderation_test", "_wpnonce": nonce,
                                       "_wp_http_referer": settings}).encode()
        with browser.open(f"{site.url}/wp-admin/admin-post.php", data=form, timeout=30) as answer:
            return str(answer.read().decode())

    assert "Not connected: the service answers, but does not know this API key" in press_test_connection()
    set_options(site, {"newsroom_moderation_api_key": ApiKeys(redis, keys).add("newsroom-wp")})
    assert "Connected: the service answers and knows this API key" in press_test_connection()
    # Without the nonce the button does nothing.
    forged = urllib.parse.urlencode({"action": "newsroom_moderation_test"}).encode()
    with pytest.raises(urllib.error.HTTPError) as refused:
        browser.open(f"{site.url}/wp-admin/admin-post.php", data=forged, timeout=30)
    assert refused.value.code == 403
    refused.value.close()

    held = site.post_comment(ABUSE, "rude@example.org", name="Rude")
    our_id = site.comment(held)["meta"]["_newsroom_moderation_id"]
    with browser.open(f"{site.url}/wp-admin/edit-comments.php", timeout=30) as answer:
        listing = answer.read().decode()
    assert "Moderation service" in listing and f"{service.url}/console/comments/{our_id}" in listing
    assert "abuse" in listing

    # "Comment must be manually approved" (Settings, Discussion) still holds what the service would publish.
    set_options(site, {"comment_moderation": "1"})
    civil = site.post_comment(CIVIL, "ann@example.com")
    assert site.comment(civil)["status"] == "unapproved"
    assert site.comment(civil)["meta"]["_newsroom_moderation_status"] == "published"

"""The plugin's PHP on its own: it parses, its unit tests pass (Debian's phpunit), it checks our signatures, it zips."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from moderation.webhooks import sign

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "wordpress" / "newsroom-moderation"
PHP = shutil.which("php")
PHPUNIT = shutil.which("phpunit")
needs_php = pytest.mark.skipif(PHP is None, reason="needs PHP (Debian: apt-get install php-cli)")


@needs_php
@pytest.mark.parametrize("source", sorted(PLUGIN.rglob("*.php")), ids=lambda path: path.name)
def test_every_file_parses_and_refuses_direct_loading(source: Path) -> None:
    linted = subprocess.run([str(PHP), "-l", str(source)], capture_output=True, text=True, check=False)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    text = source.read_text()
    assert "defined( 'ABSPATH' )" in text or "defined( 'WP_UNINSTALL_PLUGIN' )" in text


@pytest.mark.skipif(PHPUNIT is None, reason="needs PHPUnit (Debian: apt-get install phpunit)")
def test_phpunit_suite_passes() -> None:
    ran = subprocess.run([str(PHPUNIT), "-c", str(ROOT / "wordpress" / "phpunit.xml.dist")],
                         capture_output=True, text=True, check=False, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "OK (" in ran.stdout


@needs_php
def test_the_plugin_verifies_what_the_service_signs() -> None:
    """Signatures from moderation.webhooks.sign, checked by the plugin's PHP: equal, tampered, old, other secret."""
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    body = json.dumps({"id": "1700000000000-0", "type": "comment.decided", "comment_id": "01ABC",
                       "reasons": ["spam"], "note": "ünïcode ✓"}, ensure_ascii=False)
    now = int(time.time())
    cases = {
        "fresh": (secret, sign(secret, body, now), body, True),
        "tampered": (secret, sign(secret, body, now), body.replace("spam", "abuse"), False),
        "old": (secret, sign(secret, body, now - 301), body, False),
        "other secret": (secret, sign(secret + "x", body, now), body, False),
    }
    script = (
        "define('ABSPATH', '/');\n"
        f"require {json.dumps(str(PLUGIN / 'includes' / 'class-newsroom-moderation-protocol.php'))};\n"
        "$cases = json_decode(stream_get_contents(STDIN), true); $out = array();\n"
        "foreach ($cases as $name => $c) {\n"
        "  $out[$name] = Newsroom_Moderation_Protocol::verify_signature($c[0], $c[1], $c[2]);\n"
        "}\n"
        "echo json_encode($out);\n"
    )
    ran = subprocess.run([str(PHP), "-r", script], input=json.dumps(cases), capture_output=True, text=True,
                         check=False)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == {name: case[3] for name, case in cases.items()}


def test_the_zip_holds_the_plugin_folder_with_its_main_file_and_readme(tmp_path: Path) -> None:
    built = subprocess.run([str(ROOT / "scripts" / "build-wordpress-zip"), str(tmp_path / "plugin.zip")],
                           capture_output=True, text=True, check=True)
    names = zipfile.ZipFile(built.stdout.strip()).namelist()
    assert {"newsroom-moderation/newsroom-moderation.php", "newsroom-moderation/readme.txt"} <= set(names)
    assert all(name.startswith("newsroom-moderation/") for name in names)
    assert not any("tests" in name or "phpunit" in name for name in names)
    header = (PLUGIN / "newsroom-moderation.php").read_text()
    readme = (PLUGIN / "readme.txt").read_text()
    version = header.split("Version:", 1)[1].split()[0]
    assert f"Stable tag: {version}" in readme and "License: GPLv2 or later" in readme
    assert "Requires at least: 6.1" in header and "Requires PHP:      8.2" in header

"""Production settings read the environment, refuse to start without secrets, and pass
Django's deployment checklist with the sample environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _env_from_example():
    env = {}
    for line in (ROOT / "deploy" / "env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key] = value
    return env


def _manage(*args, env):
    dropped = ("DATABASE_URL", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE")
    full = {k: v for k, v in os.environ.items() if k not in dropped} | env
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True)


def test_check_deploy_is_clean_with_the_sample_environment(tmp_path):
    env = _env_from_example() | {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "VAR_DIR": str(tmp_path)}
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = _env_from_example() | {"SECRET_KEY": "", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY 环境变量未设置" in result.stderr


def test_production_refuses_to_start_without_a_database_url():
    env = _env_from_example() | {"DATABASE_URL": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "DATABASE_URL 环境变量未设置" in result.stderr


def test_defaults_are_chinese_and_shanghai(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert ("en", "English") in settings.LANGUAGES

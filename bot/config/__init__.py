"""Settings: config.yaml for everything that is not secret, the environment for what is.

Layering is code defaults < config.yaml < environment. Secrets are never read from the file:
a key that looks like one is refused with its path named, so a token cannot be committed by mistake.
"""

from __future__ import annotations

import logging
import os
import re
import secrets as secrets_module
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from bot.config.alerts import Alerts
from bot.config.cases import Cases
from bot.config.dashboard import Dashboard
from bot.config.hiding import Hiding
from bot.config.hours import WorkingHours, move_old_keys
from bot.config.photos import Photos
from bot.config.privacy import DataProtection
from bot.config.section import Section as _Section
from bot.config.voice_settings import VOICE_KEY, VoiceSettings, check_voices
from bot.crypto import ENV_NAME as KEYS_ENV
from bot.crypto import parse_keys
from rules import RulesConfig
from rules.files import load_yaml

log = logging.getLogger(__name__)

DEFAULT_CONFIG_PATH = "config.yaml"
DEFAULT_INSTANCE_PATH = "instance"
# Values people paste from tutorials; a dashboard signed with one of these is not protected.
PLACEHOLDER_SECRETS = frozenset(
    {"changethis", "change-me", "changeme", "secret", "dev", "password"}
)


class ConfigError(ValueError):
    """config.yaml or the environment is wrong; the message names the key path and line."""


class Organisation(_Section):
    name: str = "Our charity"
    page_name: str = "our page"
    timezone: str = "Europe/London"
    # Whether staff may post about the families a page supports at all. Off: policy 002 never
    # names or shows a supported family, even with their permission. A voice may allow it.
    family_posts: bool = False


class Account(_Section):
    """A Facebook Page or Instagram professional account Haven looks after."""

    id: str
    name: str
    platform: Literal["facebook", "instagram"]
    # Name of the environment variable holding this account's access token, never the token.
    token_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    # Accounts connected through Instagram Login talk to graph.instagram.com instead.
    instagram_login: bool = False

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        # YAML reads a bare page id as an int; Meta ids are opaque strings.
        return str(value) if isinstance(value, int) else value


class Meta(_Section):
    graph_api_version: str = Field(default="v24.0", pattern=r"^v(2[4-9]|[3-9]\d)\.\d$")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    dry_run: bool = True
    # How long a call to Meta may take. One that runs out may still have been done (the reply
    # posted, the answer lost): workers/sending.py reads back before sending it again.
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    accounts: tuple[Account, ...] = ()


class Queue(_Section):
    retry_intervals: tuple[int, ...] = (10, 30, 60)
    sweep_every_seconds: int = Field(default=60, ge=1)
    stuck_after_seconds: int = Field(default=120, ge=1)
    # Items one worker claims and judges together (one embedding call, one commit); 1 = one by one.
    batch_size: int = Field(default=32, ge=1, le=500)


class HavenConfig(_Section):
    """The whole of config.yaml."""

    organisation: Organisation = Organisation()
    meta: Meta = Meta()
    queue: Queue = Queue()
    dashboard: Dashboard = Dashboard()
    alerts: Alerts = Alerts()
    cases: Cases = Cases()
    data_protection: DataProtection = DataProtection()
    working_hours: WorkingHours = WorkingHours()
    hiding: Hiding = Hiding()
    # Per page: name in replies, templates, hours, lead, retention (bot/config/voice_settings.py).
    voices: dict[str, VoiceSettings] = {}
    photos: Photos = Photos()
    rules: RulesConfig = RulesConfig()
    # What check-config and the processes' start say about the file (old keys read, ...).
    _notices: tuple[str, ...] = PrivateAttr(default=())

    @model_validator(mode="wrap")
    @classmethod
    def _old_keys(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> HavenConfig:
        data, notices = move_old_keys(data)
        config = handler(data)
        config._notices = (*config._notices, *notices)
        return config

    @field_validator("voices")
    @classmethod
    def _voice_keys(cls, value: dict[str, VoiceSettings]) -> dict[str, VoiceSettings]:
        for key in value:
            if not re.match(VOICE_KEY, key):
                raise ValueError(f"{key!r}: a voice's name is lower-case letters, digits, - or _")
        return value

    @model_validator(mode="after")
    def _voices_name_known_accounts(self) -> HavenConfig:
        check_voices(self.voices, {a.id for a in self.meta.accounts})
        return self

    @property
    def notices(self) -> tuple[str, ...]:
        return self._notices


class Settings(BaseModel):
    """Everything a Haven process needs, validated once at start."""

    model_config = ConfigDict(frozen=True)

    config: HavenConfig
    config_path: str | None
    instance_path: str
    database_url: str
    redis_url: str | None
    secret_key: SecretStr | None
    meta_app_secret: SecretStr | None
    meta_ig_app_secret: SecretStr | None
    meta_verify_token: SecretStr | None
    graph_url: str
    instagram_graph_url: str
    port: int
    tokens: dict[str, SecretStr]
    # HAVEN_DATA_KEYS: Fernet keys for message texts at rest, newest first (bot/crypto.py).
    data_keys: tuple[SecretStr, ...] = ()

    @property
    def embedded(self) -> bool:
        """True when the in-process queue and worker stand in for Redis and rq."""
        return self.redis_url is None

    def app_secrets(self) -> list[str]:
        """Secrets a webhook signature may be made with (Meta app, and Instagram-login app)."""
        found = (self.meta_app_secret, self.meta_ig_app_secret)
        return [s.get_secret_value() for s in found if s and s.get_secret_value()]

    def missing_token_envs(self) -> list[str]:
        """The environment variables of the configured pages' tokens that are not set."""
        return [a.token_env for a in self.config.meta.accounts if a.id not in self.tokens]

    def summary(self) -> str:
        """One line saying what is configured, with no secret in it (`warnings` says what is
        missing; check-config puts "ok" in front only when nothing is)."""
        accounts = ", ".join(f"{a.platform}:{a.name}" for a in self.config.meta.accounts) or "none"
        database = self.database_url.split("://", 1)[0]
        queue = "redis" if self.redis_url else "in-process"
        missing_tokens = self.missing_token_envs()
        return (
            f"accounts [{accounts}]; database {database}; queue {queue}; "
            f"graph {self.config.meta.graph_api_version}"
            f"{' (dry run)' if self.config.meta.dry_run else ''}; "
            f"app secret {'set' if self.meta_app_secret else 'NOT SET'}; "
            f"verify token {'set' if self.meta_verify_token else 'NOT SET'}; "
            f"missing tokens [{', '.join(missing_tokens)}]; "
            f"data keys {f'{len(self.data_keys)} set' if self.data_keys else 'NOT SET'}"
        )

    def warnings(self) -> list[str]:
        """What is missing but not required to start: each a line for `haven check-config`."""
        found: list[str] = []
        if not self.meta_app_secret:
            found.append(
                "app secret NOT SET: set META_APP_SECRET before Meta sends webhooks "
                "(their signatures cannot be checked without it)"
            )
        if not self.meta_verify_token:
            found.append(
                "verify token NOT SET: set META_VERIFY_TOKEN before subscribing the webhook"
            )
        missing = self.missing_token_envs()
        if missing:
            found.append(f"missing tokens: {', '.join(missing)} (those pages cannot be answered)")
        if not self.data_keys:
            found.append(
                "data keys NOT SET: set HAVEN_DATA_KEYS (`haven keys generate`) before Haven "
                "stores message texts"
            )
        return found


def load_settings(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Read config.yaml and the environment, and validate both.

    `overrides` replaces top-level sections of config.yaml (tests and the demo use it).
    """
    env = os.environ if environ is None else environ
    config_path = Path(path or _env(env, "HAVEN_CONFIG") or DEFAULT_CONFIG_PATH)
    data: dict[str, Any] = {}
    text = ""
    if config_path.exists():
        text = config_path.read_text(encoding="utf-8")
        loaded = load_yaml(text)
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{config_path}: the top level must be a mapping of sections")
        data = loaded or {}
    elif path is not None or _env(env, "HAVEN_CONFIG"):
        raise ConfigError(f"{config_path}: file not found")
    if overrides:
        data = {**data, **overrides}
    _refuse_secrets_in_file(data, str(config_path))
    try:
        config = HavenConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, str(config_path), text)) from None
    for notice in config.notices:
        log.warning("%s: %s", config_path, notice)
    return _with_environment(config, str(config_path) if config_path.exists() else None, env)


def _with_environment(
    config: HavenConfig, config_path: str | None, env: Mapping[str, str]
) -> Settings:
    instance_path = _env(env, "HAVEN_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH
    database_url = normalise_database_url(
        _env(env, "DATABASE_URL") or f"sqlite:///{Path(instance_path).resolve() / 'haven.sqlite'}"
    )
    tokens = {a.id: SecretStr(v) for a in config.meta.accounts if (v := _env(env, a.token_env))}
    port_text = _env(env, "PORT") or "5000"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"PORT: {port_text!r} is not a port number")
    return Settings(
        config=config,
        config_path=config_path,
        instance_path=instance_path,
        database_url=database_url,
        redis_url=_env(env, "REDIS_URL"),
        secret_key=_secret(env, "SECRET_KEY"),
        meta_app_secret=_secret(env, "META_APP_SECRET"),
        meta_ig_app_secret=_secret(env, "META_IG_APP_SECRET"),
        meta_verify_token=_secret(env, "META_VERIFY_TOKEN"),
        graph_url=(_env(env, "META_GRAPH_URL") or "https://graph.facebook.com").rstrip("/"),
        instagram_graph_url=(
            _env(env, "META_INSTAGRAM_GRAPH_URL") or "https://graph.instagram.com"
        ).rstrip("/"),
        port=int(port_text),
        tokens=tokens,
        data_keys=_data_keys(env),
    )


def _data_keys(env: Mapping[str, str]) -> tuple[SecretStr, ...]:
    try:
        return tuple(SecretStr(k) for k in parse_keys(_env(env, KEYS_ENV)))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def normalise_database_url(url: str) -> str:
    """Point every PostgreSQL URL at psycopg 3, whatever spelling the host gave us."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _env(env: Mapping[str, str], name: str) -> str | None:
    """A value from NAME, or from the file named by NAME_FILE (container secrets)."""
    value = env.get(name)
    if value:
        return value.strip()
    file_name = env.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip() or None
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {file_name}: {exc.strerror}") from None
    return None


def _secret(env: Mapping[str, str], name: str) -> SecretStr | None:
    value = _env(env, name)
    if value is None:
        return None
    if value.lower() in PLACEHOLDER_SECRETS:
        raise ConfigError(f"{name}: a placeholder value is not a secret; set a real one")
    return SecretStr(value)


def dashboard_secret_key(settings: Settings) -> str:
    """SECRET_KEY, or a random key kept in the instance folder so a first run needs no setup.

    Made only when the web app starts, so operator commands never write to the instance folder.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    key_file = Path(settings.instance_path) / "secret_key"
    if key_file.exists():
        return key_file.read_text(encoding="utf-8").strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets_module.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


_SECRET_WORDS = ("token", "secret", "password", "app_secret")


def _refuse_secrets_in_file(data: Any, file_name: str, where: str = "") -> None:
    if isinstance(data, dict):
        for key, value in data.items():
            path = f"{where}.{key}" if where else str(key)
            lowered = str(key).lower()
            if any(w in lowered for w in _SECRET_WORDS) and not lowered.endswith("_env"):
                if isinstance(value, str) and value:
                    raise ConfigError(
                        f"{file_name}: {path}: secrets belong in the environment, not in the file"
                    )
            _refuse_secrets_in_file(value, file_name, path)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            _refuse_secrets_in_file(value, file_name, f"{where}[{index}]")


def _describe(exc: ValidationError, file_name: str, text: str) -> str:
    """Turn pydantic's errors into lines naming the key path and, where known, the line."""
    lines = []
    for error in exc.errors():
        loc = error["loc"]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        line = _line_of(text, loc)
        where = f"{file_name}:{line}" if line else file_name
        message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"]
        lines.append(f"{where}: {path or '(top level)'}: {message}")
    return "\n".join(lines)


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of a key path in the YAML text, found on the parsed node tree."""
    if not text:
        return None
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line

"""Adapter configuration: keyword arguments first, then documented environment variables.

An adapter's config is an attrs class whose fields are declared with :func:`setting`::

    @attrs.frozen(kw_only=True)
    class GladiaConfig:
        api_key: str = setting(env="GLADIA_API_KEY", secret=True, help="API key")
        base_url: str = setting(default="https://api.gladia.io", env="GLADIA_BASE_URL")

:func:`build_config` fills it: a keyword argument wins, else the environment variable, else the
default; a setting with neither is a ``ConfigError`` naming the variable to set. Secret
settings never appear in the config's repr.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

import attrs

from convoport.errors import ConfigError

C = TypeVar("C")

_ENV = "convoport_env"
_SECRET = "convoport_secret"
_HELP = "convoport_help"


def setting(
    *,
    default: Any = attrs.NOTHING,
    env: str | tuple[str, ...] | None = None,
    secret: bool = False,
    help: str = "",
    converter: Any = None,
) -> Any:
    """Declares one config field. ``env`` names the environment variable read when the
    keyword argument is absent, or several: convoport's name first, then aliases (the
    vendor's official SDK's names, so existing environments work), read in that order;
    ``secret`` hides the value from reprs."""
    return attrs.field(
        default=default,
        repr=not secret,
        converter=converter,
        metadata={_ENV: env, _SECRET: secret, _HELP: help},
    )


def flag(value: bool | str) -> bool:
    """A boolean setting from a bool or its text (``true/false``, ``1/0``, ``yes/no``,
    ``on/off``, any case); anything else is a ``ValueError`` naming the value."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def optional_text(value: Any) -> str | None:
    """A text setting where blank means unset (None)."""
    return None if value is None or str(value).strip() == "" else str(value)


def secret_values(config: Any) -> list[str]:
    """The values of a config's secret settings (fed to redactors)."""
    values = []
    for field in attrs.fields(type(config)):
        if field.metadata.get(_SECRET):
            value = getattr(config, field.name)
            if isinstance(value, str) and value:
                values.append(value)
    return values


def env_names(field: attrs.Attribute[Any]) -> tuple[str, ...]:
    """The environment variables a setting reads, in precedence order (convoport's first)."""
    value = field.metadata.get(_ENV)
    if not value:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def build_config(
    config_cls: type[C],
    options: Mapping[str, Any],
    *,
    provider: str,
    env: Mapping[str, str] | None = None,
) -> C:
    """Builds ``config_cls`` from keyword ``options``, then environment variables, then
    defaults. Unknown options and missing required settings are ``ConfigError``."""
    environ = os.environ if env is None else env
    fields = {f.name: f for f in attrs.fields(config_cls)}  # type: ignore[arg-type]
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise ConfigError(
            f"unknown option{'s' if len(unknown) > 1 else ''} for {provider}: "
            + ", ".join(unknown),
            hint="valid options: " + ", ".join(sorted(fields)),
        )
    values: dict[str, Any] = {}
    for name, field in fields.items():
        if name in options and options[name] is not None:
            values[name] = options[name]
            continue
        names = env_names(field)
        found = next((n for n in names if environ.get(n)), None)
        if found is not None:
            values[name] = environ[found]
            continue
        if field.default is attrs.NOTHING:
            how = (
                f"set {names[0]} (or pass {name}=... to convoport.connect)"
                if names
                else f"pass {name}=... to convoport.connect"
            )
            raise ConfigError(
                f"{provider} needs {field.metadata.get(_HELP) or name}",
                hint=how,
            )
    try:
        return config_cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"invalid {provider} configuration: {exc}") from None


__all__ = ["build_config", "env_names", "flag", "optional_text", "secret_values", "setting"]

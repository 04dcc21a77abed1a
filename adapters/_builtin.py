"""Registers the built-in adapters through the ``convoport.adapters`` entry-point group, exactly
as a third-party plugin does. Adapters are registered by dotted path: none is imported here."""

from __future__ import annotations

from convoport.registry import AdapterRegistry, hookimpl

#: provider name -> "module:class"; the adapter modules load on first use.
BUILTIN_ADAPTERS: dict[str, str] = {
    "gladia": "convoport.adapters.gladia.adapter:GladiaAdapter",
    "illocution": "convoport.adapters.illocution.adapter:IllocutionAdapter",
    "local": "convoport.adapters.local.adapter:LocalAdapter",
    "postgresql": "convoport.adapters.postgresql.adapter:PostgresAdapter",
    "realtimekit": "convoport.adapters.realtimekit.adapter:RealtimeKitAdapter",
    "syllable": "convoport.adapters.syllable.adapter:SyllableAdapter",
}


@hookimpl
def convoport_register_adapters(registry: AdapterRegistry) -> None:
    for name, target in BUILTIN_ADAPTERS.items():
        registry.register(name, target)

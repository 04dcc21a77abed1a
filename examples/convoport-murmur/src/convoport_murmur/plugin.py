"""The entry-point target: registers the adapter by dotted path (loaded on first use)."""

from convoport.spi import AdapterRegistry, hookimpl


@hookimpl
def convoport_register_adapters(registry: AdapterRegistry) -> None:
    registry.register("murmur", "convoport_murmur.adapter:MurmurAdapter")

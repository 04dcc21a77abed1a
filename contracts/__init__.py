"""The contract kit: the cassette format, replay and record transports, the pytest base
classes every adapter passes, and the helpers vendor emulators share.

* :mod:`convoport.contracts.cassette` — the versioned cassette format;
* :mod:`convoport.contracts.transport` — ``ReplayTransport`` (strict) and ``RecordingTransport``;
* :mod:`convoport.contracts.scan` — the secret scan over cassettes;
* :mod:`convoport.contracts.scenarios` — the named scenarios;
* :mod:`convoport.contracts.kit` — ``CassetteContract`` and ``EmulatorContract``;
* :mod:`convoport.contracts.record` — the recorder (``python -m convoport.contracts.record``);
* :mod:`convoport.contracts.emulator` — fault injection, WAV generation, in-process transport.

The kit classes import pytest; import them from test modules only. They load on first use
(so ``convoport.contracts.scan`` and the cassette modules never need pytest), and type
checkers see them through the ``TYPE_CHECKING`` import: ``from convoport.contracts import
CassetteContract`` passes ``mypy --strict`` in a plugin's tests.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convoport.contracts.kit import CassetteContract, EmulatorContract, ProviderContract

__all__ = ["CassetteContract", "EmulatorContract", "ProviderContract"]


def __getattr__(name: str) -> Any:
    # The kit imports pytest: load it only when a test asks for it.
    if name in __all__:
        from convoport.contracts import kit

        return getattr(kit, name)
    raise AttributeError(name)

"""The Cloudflare RealtimeKit backend (``convoport.connect("realtimekit", ...)``).

Modules: :mod:`.adapter` (``RealtimeKitAdapter``, ``RealtimeKitConfig``), :mod:`.wire`
(RealtimeKit's payload types and vocabularies), :mod:`.translate` (pure translators),
:mod:`.emulator` (the in-process emulator behind ``sandbox=True``, with its storage host).
Nothing is imported here, so ``import convoport.adapters.realtimekit`` stays cheap.
"""

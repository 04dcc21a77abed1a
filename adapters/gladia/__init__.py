"""The Gladia live v2 backend (``convoport.connect("gladia", ...)``).

Modules: :mod:`.adapter` (``GladiaAdapter``, ``GladiaConfig``), :mod:`.wire` (Gladia's payload
types and vocabularies), :mod:`.translate` (pure translators), :mod:`.live` (the live session
handle), :mod:`.emulator` (the in-process emulator behind ``sandbox=True``). Nothing is imported
here, so ``import convoport.adapters.gladia`` stays cheap.
"""

"""The Syllable sessions backend (``convoport.connect("syllable", ...)``).

Modules: :mod:`.adapter` (``SyllableAdapter``, ``SyllableConfig``), :mod:`.wire` (Syllable's
payload types and vocabularies), :mod:`.translate` (pure translators), :mod:`.emulator` (the
in-process emulator behind ``sandbox=True``). Nothing is imported here, so
``import convoport.adapters.syllable`` stays cheap.
"""

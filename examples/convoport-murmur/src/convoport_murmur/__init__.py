"""convoport-murmur: an example convoport plugin for Murmur Notes (a made-up vendor).

See the plugin's README: the files a plugin author writes, how the kit tests it
(``tests/test_contract.py``), and how its cassettes are recorded with the kit's recorder::

    python -m convoport.contracts.record murmur --emulator --require signed_media \
        --out src/convoport_murmur --write-expected
"""

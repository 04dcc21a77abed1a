"""The contract kit, exactly as the plugin-author guide says: subclass, set attributes, done.

``requirements`` names what the kit cannot read from the adapter's declaration: Murmur's
recordings sit behind pre-signed links on its media host.
"""

from convoport.contracts import CassetteContract, EmulatorContract


class TestMurmurCassettes(CassetteContract):
    provider = "murmur"
    connect_options = {"api_token": "test-token"}
    requirements = {"signed_media"}


class TestMurmurEmulator(EmulatorContract):
    provider = "murmur"
    requirements = {"signed_media"}

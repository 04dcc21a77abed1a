"""The contract kit, exactly as the plugin-author guide says: subclass, set attributes, done."""

from convoport.contracts import CassetteContract, EmulatorContract


class TestMurmurCassettes(CassetteContract):
    provider = "murmur"
    connect_options = {"api_token": "test-token"}


class TestMurmurEmulator(EmulatorContract):
    provider = "murmur"

"""convoport-murmur: an example convoport plugin for Murmur Notes (a made-up vendor)."""

"""Built-in adapters; each subpackage is one backend."""

"""Test support shared by the vendor adapters' test folders (``tests/adapters/<vendor>/``) and
the tests that drive ``convoport`` from outside (``tests/test_cli_e2e.py``, ``tests/sandbox/``).

One job per module; what only one vendor needs stays in that vendor's folder:

- :mod:`tests.support.openapi`: a vendor's OpenAPI document (the copy shipped as
  ``adapters/<vendor>/openapi.json``): loading it, resolving its refs, validating an answer
  against the schema its operation declares. A vendor subclasses
  :class:`~tests.support.openapi.OpenAPIDocument` for its error envelopes and deviations.
- :mod:`tests.support.cassettes`: walking a recorded cassette's exchanges and checking each
  JSON answer against the vendor's document.
- :mod:`tests.support.checked`: an ``httpx.AsyncClient`` on an emulator that checks every
  answer it receives against the vendor's document.
- :mod:`tests.support.scenarios`: where a vendor's cassettes and expected outcomes live, its
  own scenarios next to the kit's, which scenarios it must have a cassette for, and replaying
  one cassette through the kit.
- :mod:`tests.support.fuzz`: hypothesis strategies that mutate realistic JSON payloads.
- :mod:`tests.support.transports`: a transport that notes every request an adapter sends.
- :mod:`tests.support.emulate`: ``convoport emulate NAME`` in a subprocess on a free port.
- :mod:`tests.support.cli`: running the command line in-process and reading its JSON.
- :mod:`tests.support.postgres`: a throwaway PostgreSQL server per session and a fresh database
  per test (the ``postgres_server`` and ``postgres_url`` fixtures of ``tests/conftest.py``).
- :mod:`tests.support.s3`: moto's S3 server in a subprocess on loopback, fake credentials for it,
  and the skip/fail rule for tests that need it (the ``s3_endpoint`` and ``s3_bucket`` fixtures
  of ``tests/store/conftest.py``).

Nothing here imports a vendor adapter or a vendor's test folder: each module takes the
vendor's values (its document, host, package, payloads) as arguments.
"""

"""A migration spread over Dask workers (``convoport.cluster``, ``migrate --workers/--dask``)."""

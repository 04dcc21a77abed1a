"""Illocution: live capture (sequenced chunk uploads, one SSE consumer, control actions) and
batch analysis. See :mod:`convoport.adapters.illocution.adapter`."""

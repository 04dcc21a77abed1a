"""Tests of the archive's media store on an object store (a real S3-compatible server)."""

"""The contract kit."""

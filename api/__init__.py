"""The reference control plane: U-Gen's REST API in front of the worker (see docs/api.md)."""

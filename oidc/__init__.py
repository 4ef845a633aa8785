"""OpenID Connect provider frontend (later issue)."""

"""SAML 2.0 identity provider frontend (later issue)."""

"""Pseudonymisation and encryption: the only package that imports ``cryptography``."""

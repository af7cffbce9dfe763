"""The user's language: locale tags, scripts, and the server's own messages in that language.

`locales` normalises a locale tag (Babel), `scripts` tells which writing system a text is in,
`messages` is the gettext catalogue lookup. Nothing here knows about LSP or the model.
"""

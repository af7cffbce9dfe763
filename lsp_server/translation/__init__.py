"""Translating comments and docstrings in place: the text the model sees (`protect`), the
comment's layout and its re-wrapping (`layout`, `wrap`), and the plan and checks (`plan`)."""

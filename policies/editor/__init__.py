"""The policy editor's pages: drafts, the form editor, what-if, history, export and apply."""

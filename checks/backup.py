"""Placeholder: the controls of this area land with issue 3."""

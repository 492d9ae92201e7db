"""The coordinators' web dashboard (SPEC.md 7): auth, views, templates and a stylesheet."""

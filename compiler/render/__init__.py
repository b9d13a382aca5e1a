"""Rendering: submitting compiled requests to DashScope, journaling them and fetching the videos."""

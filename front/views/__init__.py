"""The web UI's views, one module per area. Each loads through the user's scope."""

"""The HR web pages: sign-in, the needs report, model pages (server-rendered Jinja2)."""

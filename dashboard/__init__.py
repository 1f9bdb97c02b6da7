"""The dashboard (Dash) and the history API/CLI; both read PostgreSQL, never Kafka.

Entry points for other folders: ``dashboard.server.create_server`` (one ASGI app: API at
``/api/v1``, Dash at ``/``), ``dashboard.cli.app`` (mounted by ``app.cli``) and
``dashboard.queries`` (every SQL statement, by subject). Nothing is imported here: Dash
is heavy and its pages must be imported after the app exists.
"""

__all__: list[str] = []

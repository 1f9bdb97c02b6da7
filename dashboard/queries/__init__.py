"""Every SQL read of the dashboard, the history API and ``finsent query``, by subject.

Callers import from the subject module: ``series``, ``heatmap``, ``movers`` and
``scopes`` (the sentiment buckets), ``articles``, ``article_detail`` and ``events``
(event types per article), ``search``
(headlines), ``health``, ``alerts``, ``alert_actions`` (acknowledge, silence) and
``inbox``. Each row type is declared once, as a frozen pydantic model in its subject
module: the dashboard renders it, ``finsent query`` prints it and the API serves it as
its response model.

Series read ``sentiment_buckets`` (never raw articles): the range picks a stored width
(``timerange.width_for``) and ``date_bin`` sums buckets into the requested step, so the
cost grows with the number of points, not with the number of articles. Article lists
read ``articles`` with the latest score of each article (one row per model version is
kept) and its tickers.
"""

__all__: list[str] = []

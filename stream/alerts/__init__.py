"""Alerting: rules over sentiment buckets, a persisted state machine, grouped notifications.

``rules`` (pure models and evaluation), ``state`` (PostgreSQL), ``engine`` (what to
evaluate when), ``notify`` and ``channels`` (outbox delivery), ``backtest``, ``agents``
(wiring into the faust worker) and ``cli`` (`finsent alerts`).
"""

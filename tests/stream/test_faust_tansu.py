"""The worker's faust app shortens consumer fetch waits against the embedded broker only.

The latency this buys is measured by bench/pipeline.py (not a timed test); here: that the
embedded broker gets the tuned consumer and a real Kafka address the stock one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka

from core.config import Settings
from core.services import KafkaTarget
from stream.faust_tansu import TANSU_FETCH_MAX_WAIT_MS, TansuApp
from stream.worker import create_app


class _NoProcessor:
    engine = None


def _app(embedded: bool, data_dir: Path) -> faust.App:
    settings = Settings(data_dir=data_dir, alerts={"enabled": False})
    return create_app(settings, KafkaTarget("127.0.0.1:1", embedded), _NoProcessor())  # type: ignore[arg-type]


def test_embedded_broker_gets_the_short_fetch_wait(tmp_path: Path) -> None:
    async def fetch_wait() -> int:
        app = _app(embedded=True, data_dir=tmp_path)
        assert isinstance(app, TansuApp)
        thread = app.consumer._thread  # type: ignore[attr-defined]
        created = thread._create_worker_consumer(app.transport)
        try:
            return int(created._fetch_max_wait_ms)
        finally:
            await created.stop()  # never started: this only releases it
            thread.thread_loop.close()  # the consumer thread's own loop, never started

    assert asyncio.run(fetch_wait()) == TANSU_FETCH_MAX_WAIT_MS


def test_real_kafka_keeps_fausts_own_consumer(tmp_path: Path) -> None:
    app = _app(embedded=False, data_dir=tmp_path)
    assert type(app) is faust.App
    assert type(app.transport) is faust_aiokafka.Transport

"""The versioned history API (``/api/v1``): series, articles, alert events, health."""

from dashboard.api.routes import router

__all__ = ["router"]

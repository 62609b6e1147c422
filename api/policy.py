"""The Content-Security-Policy of the pages this app serves (the playground, the map): this
origin only, so a stray CDN reference fails loudly in the browser instead of quietly needing
the internet. 'self' covers ws:// to this host, for subscriptions."""

from __future__ import annotations

from collections.abc import Iterable


def content_security_policy(images: Iterable[str] = ("data:",)) -> str:
    """'self' for everything; images also from ``images`` (data:, blob:, a tile server).
    Inline styles are allowed: GraphiQL and Leaflet set them; fonts may be data: URLs
    (GraphiQL's CSS embeds its own)."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            " ".join(["img-src 'self'", *images]),
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ]
    )

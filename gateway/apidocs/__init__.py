"""The interactive API documentation at /schema, served entirely from this gateway,
and the finishing touches on the OpenAPI document.
"""

from gateway.apidocs.page import ASSET_HANDLERS, SwaggerOffline, docs_headers_middleware
from gateway.apidocs.schema import complete

__all__ = ["ASSET_HANDLERS", "SwaggerOffline", "complete", "docs_headers_middleware"]

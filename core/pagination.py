"""One bounded limit/offset pagination for every list in the API: a negative or huge limit or offset is a 422
naming the parameter, never a database error (PostgreSQL's OFFSET is a bigint)."""

from ninja import Field, Schema
from ninja.pagination import LimitOffsetPagination

MAX_LIMIT = 1000
MAX_OFFSET = 100_000_000


class Paged(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(100, ge=1, le=MAX_LIMIT, description=f"items per page, 1–{MAX_LIMIT}")
        offset: int = Field(0, ge=0, le=MAX_OFFSET, description=f"items to skip, 0–{MAX_OFFSET:,}")

    def __init__(self, **kwargs):
        super().__init__(max_limit=MAX_LIMIT, **kwargs)

from assets.admin import assets as _assets  # noqa: F401
from assets.admin import registry as _registry  # noqa: F401

"""Pages of the reporting cycle: the lead's reporting years, each member's return."""

from __future__ import annotations

from portal.access import partnership_blueprint, tenant_blueprint
from portal.returns import models  # noqa: F401 - the tables the pages work on

partnership_bp = partnership_blueprint("reports", __name__, "/reports")
tenant_bp = tenant_blueprint("returns", __name__, "/returns")

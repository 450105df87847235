"""`observability`: what the platform shows about itself."""

from __future__ import annotations

from pydantic import Field

from .base import _Model


class ObservabilitySpec(_Model):
    """A CloudWatch dashboard per region (`<environment>-<region code>-platform`): one alarm widget per
    SLO (its signal against its objective, and its state), the transit gateway's traffic, and the
    requests the WAF blocks."""

    dashboards: bool = Field(True, description="a CloudWatch dashboard per region, generated from the SLOs, "
                                               "the transit gateway and the WAF")

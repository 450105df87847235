"""global-platform-bootstrap: Pulumi's state bucket, the secrets keys and the CI identities, from
Pulumi.<stack>.yaml. Self-contained (package gp_bootstrap beside this file): Pulumi runs it with
bootstrap/ as the program directory, where the platform's `components` package is not importable."""

import pulumi

from gp_bootstrap.config import BootstrapConfigError, load_from_pulumi
from gp_bootstrap.build import build

try:
    cfg = load_from_pulumi()
except BootstrapConfigError as err:
    # RunError: the engine prints the message alone, no traceback, and nothing is registered.
    raise pulumi.RunError(str(err)) from None

build(cfg)

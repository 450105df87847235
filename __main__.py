"""global-platform: the whole AWS platform of one stack, from Pulumi.<stack>.yaml."""

import pulumi

from components.config import ConfigError
from components.imports import adopt_existing
from components.platform import build_platform
from components.stack import load_stack_spec_from_pulumi

try:
    spec = load_stack_spec_from_pulumi()
except ConfigError as err:
    # RunError: the engine prints the message alone, no traceback, and nothing is registered.
    raise pulumi.RunError(err.render()) from None

adopt_existing(spec)  # `imports`: a stack transform, registered before any resource
build_platform(spec)

"""Policy pack `agent-os-hardened`: the hardened profile of policy/rules.py.

`pulumi preview --policy-pack policy` (or `pulumi up`) starts this file as the analyzer;
constructing the PolicyPack serves it and never returns. All violations are mandatory.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The analyzer runs this file from the pack directory; make the `policy` package importable.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pulumi_policy import EnforcementLevel, PolicyPack

from policy.pack import PACK_NAME, policies

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=policies())

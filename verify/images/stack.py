"""How the stack under test reaches the images built here: through the program's own image
settings, never a special case in the program.

* `images.mirror` is a local test registry name (`MIRROR`); no registry answers there, and
  none is needed: every image the stack names under it is tagged locally before deploying
  (Swarm's pull fails fast and the task runs the local image).
* `images.overrides` maps every image key with a real recipe here (the recipe's name is
  the key) to the recipe's alias, so the stack names the version built here (e.g. OpenBao
  2.6.1 for the 2.4.3 pin: verify/images/MANIFEST.md lists every difference), and the
  keys no build is obtainable for to their named fakes (recipes/fakes.py).
* Connectors come from the registry as `knucklessg1/<package>:latest`; under the mirror
  they are tagged from the connector's own recipe (the recipe's name is the service name).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import docker
from docker.errors import ImageNotFound

from components.config.images import DEFAULT_IMAGES
from tools import mockrun

from .recipe import Recipe
from .recipes import RECIPES as REAL
from .recipes import fakes

MIRROR = "registry.agent-os.test:5000"
# Every image the stack under test can take: the real builds, then the named fakes.
RECIPES: dict[str, Recipe] = {**REAL, **{r.name: r for r in fakes.RECIPES}}


def images_config(base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The `agent-os:images` config of the stack under test (over the stack file's own)."""
    overrides = {key: REAL[key].alias for key in DEFAULT_IMAGES if key in REAL}
    overrides |= fakes.OVERRIDES
    return {**(base or {}), "mirror": MIRROR, "overrides": overrides}


def planned_images(run: mockrun.Run) -> dict[str, str]:
    """service or container name -> the image reference the program gives it."""
    out: dict[str, str] = {}
    for r in run.resources:
        if r.type == "docker:index/service:Service":
            out[r.name] = r.inputs["taskSpec"]["containerSpec"]["image"]
        elif r.type == "docker:index/container:Container":
            out[r.name] = r.inputs["image"]
    return out


def local_source(name: str, ref: str) -> str:
    """The local image (a recipe's alias) that `ref`, planned for `name`, stands for."""
    prefix = f"{MIRROR}/"
    if not ref.startswith(prefix):
        raise LookupError(f"{name}: {ref} is not under the test mirror {MIRROR}")
    rest = ref.removeprefix(prefix)
    aliases = {r.alias: r.alias for r in RECIPES.values()}
    if rest in aliases or f"docker.io/{rest}" in aliases:
        return rest
    if name in RECIPES:
        return RECIPES[name].alias
    raise LookupError(f"{name}: no image is built here for {ref}")


def tag_for_stack(client: docker.DockerClient, refs: Mapping[str, str]) -> list[str]:
    """Tag the local images under the names the stack uses; returns what it could not tag."""
    missing: list[str] = []
    for name, ref in sorted(refs.items()):
        try:
            source = local_source(name, ref)
            client.images.get(source).tag(ref)
        except (LookupError, ImageNotFound) as e:
            missing.append(f"{name}: {e}")
    return missing


def recipes_for(refs: Mapping[str, str]) -> Iterable[str]:
    """The recipe names the stack needs built."""
    by_alias = {r.alias: n for n, r in RECIPES.items()}
    for name, ref in refs.items():
        rest = ref.removeprefix(f"{MIRROR}/")
        yield by_alias.get(rest) or name

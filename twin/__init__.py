"""The twin: Gitea, Drone and Docker Engine APIs served from one world file.

from twin import running_twin
with running_twin("worlds/x.yaml") as twin:
    httpx.get(twin.gitea_url + "/api/v1/version")
"""

from twin.server import TwinHandle, TwinState, running_twin
from twin.world import World, WorldError, load_world

__all__ = ["TwinHandle", "TwinState", "World", "WorldError", "load_world", "running_twin"]

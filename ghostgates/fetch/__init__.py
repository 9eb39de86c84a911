"""Fetch: read Gitea, Drone and the Swarm (the one fetch plan a run), bounded and retried."""

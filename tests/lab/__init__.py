"""Lab tests: the Swarm checks on a real engine (scripts/swarm-setup.sh)."""
